import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.zone.ZoneRulesProvider;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.TimeZone;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.quartz.CronExpression;

/**
 * The judge of our cron engine: answers the differential-test protocol with the real Quartz jar.
 *
 * <p>stdin, one case per line: {@code expr<TAB>zone<TAB>start<TAB>n}, start ISO-8601 with an offset
 * ({@code OffsetDateTime.parse}), n a positive integer in plain decimal digits; both trimmed.
 * stdout, one line per input line, in order: the next n fire times strictly after start, formatted
 * {@code yyyy-MM-dd'T'HH:mm:ss+HH:MM} in the case's zone, comma-joined; {@code ,END} appended (or just
 * {@code END}) when the schedule has fewer than n fire times left; or {@code INVALID: <reason>}.
 *
 * <p>Quartz turns unknown zone ids silently into GMT; this driver reports them as invalid instead.
 * Every line is answered on its own: whatever goes wrong with one line (a parse error, an exception
 * inside Quartz, a search that never ends: {@code 0W}, or {@code LW} around some DST changes) becomes
 * that line's {@code INVALID: ...} answer; a line gets 5 seconds (first argument: another limit).
 *
 * <p>{@code --version} prints the JVM and its tz database instead, for the test's messages: Quartz's
 * answers in some zones depend on them (see corpus/deviations.tsv).
 *
 * <p>Compile and run: {@code javac -cp quartz2.jar -d out QuartzDriver.java;
 * java -cp out:quartz2.jar QuartzDriver < corpus.tsv}
 */
public final class QuartzDriver {

    private static final DateTimeFormatter FORMAT = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssxxx");
    /** Seconds one line may take (the slowest real case takes about 0.1 s); the first argument overrides it. */
    private static final long DEFAULT_TIMEOUT_SECONDS = 5;

    private QuartzDriver() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--version")) {
            System.out.println("Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name")
                + ", " + System.getProperty("java.vendor") + "), tzdb " + ZoneRulesProvider.getVersions("UTC").lastKey());
            return;
        }
        long timeoutSeconds = args.length > 0 ? Long.parseLong(args[0]) : DEFAULT_TIMEOUT_SECONDS;
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8)));
        ExecutorService worker = newWorker();
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) {
                out.println();
                continue;
            }
            final String input = line;
            String answer;
            Future<String> future = worker.submit(() -> answer(input));
            try {
                answer = future.get(timeoutSeconds, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                future.cancel(true);
                worker.shutdownNow();
                worker = newWorker();  // the stuck thread is a daemon; leave it behind
                answer = "INVALID: quartz driver: no answer within " + timeoutSeconds + " s (Quartz loops forever on some cases)";
            } catch (ExecutionException e) {
                answer = "INVALID: quartz driver: " + describe(e.getCause());
            } catch (Throwable e) {
                answer = "INVALID: quartz driver: " + describe(e);
            }
            out.println(answer);
        }
        out.flush();
        worker.shutdownNow();
        System.exit(0);
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "quartz-driver-case");
            thread.setDaemon(true);
            return thread;
        });
    }

    static String answer(String line) {
        try {
            String[] parts = line.split("\t", -1);
            if (parts.length != 4) {
                return "INVALID: expected 4 tab-separated fields: expr, zone, start, n";
            }
            String expression = parts[0];
            String zoneId = parts[1];
            // n: plain ASCII decimal digits only (Integer.parseInt alone would also take "+3" and
            // non-ASCII digits), at least 1: zero fire times is no answer, so it is refused
            String count = parts[3].trim();
            int n;
            try {
                n = count.matches("[0-9]+") ? Integer.parseInt(count) : 0;
            } catch (NumberFormatException e) {
                n = 0;  // beyond int
            }
            if (n < 1) {
                return "INVALID: n must be a positive integer in plain decimal digits, got '" + parts[3] + "'";
            }
            Instant start;
            try {
                start = OffsetDateTime.parse(parts[2].trim()).toInstant();
            } catch (RuntimeException e) {
                return "INVALID: start '" + parts[2] + "' is not an ISO-8601 date-time with an offset";
            }

            CronExpression cron;
            try {
                cron = new CronExpression(expression);
            } catch (java.text.ParseException e) {
                return "INVALID: " + nonEmpty(e.getMessage(), "ParseException");
            } catch (RuntimeException e) {
                // Defensive: 2.3.2 wraps its own runtime exceptions in ParseException("Illegal cron expression format (...)").
                return "INVALID: " + describe(e);
            }

            TimeZone zone = TimeZone.getTimeZone(zoneId);
            if (zone.getID().equals("GMT") && !zoneId.equals("GMT")) {
                return "INVALID: unknown time zone '" + zoneId + "'";
            }
            cron.setTimeZone(zone);
            ZoneId formatZone = formatZone(zone);

            List<String> times = new ArrayList<>(n);
            Date after = Date.from(start);
            boolean ended = false;
            for (int i = 0; i < n; i++) {
                Date next = cron.getTimeAfter(after);
                if (next == null) {
                    ended = true;
                    break;
                }
                times.add(format(next, zone, formatZone));
                after = next;
            }
            if (ended) {
                times.add("END");
            }
            return String.join(",", times);
        } catch (Throwable e) {
            // Quartz accepted the expression but cannot evaluate it (e.g. 'L' in the seconds field:
            // NoSuchElementException from getTimeAfter).
            return "INVALID: quartz driver: " + describe(e);
        }
    }

    /** The zone to format in, or null when java.time cannot represent it (offsets beyond +-18:00). */
    private static ZoneId formatZone(TimeZone zone) {
        try {
            return zone.toZoneId();
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String format(Date at, TimeZone zone, ZoneId formatZone) {
        Instant instant = at.toInstant();
        if (formatZone != null) {
            return FORMAT.format(instant.atZone(formatZone));
        }
        // GMT+19:00 .. GMT+23:59: java.util knows them, java.time does not; format by hand.
        int offsetSeconds = zone.getOffset(at.getTime()) / 1000;
        LocalDateTime local = LocalDateTime.ofEpochSecond(instant.getEpochSecond() + offsetSeconds, 0, ZoneOffset.UTC);
        int abs = Math.abs(offsetSeconds);
        String offset = String.format("%s%02d:%02d", offsetSeconds < 0 ? "-" : "+", abs / 3600, (abs / 60) % 60);
        return DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").format(local) + offset;
    }

    private static String describe(Throwable e) {
        if (e == null) {
            return "unknown error";
        }
        String message = e.getMessage();
        String text = e.getClass().getSimpleName() + (message == null || message.isEmpty() ? "" : ": " + message);
        return text.replace('\n', ' ').replace('\r', ' ');
    }

    private static String nonEmpty(String text, String fallback) {
        return text == null || text.trim().isEmpty() ? fallback : text.replace('\n', ' ').replace('\r', ' ');
    }
}
