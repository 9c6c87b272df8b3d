"""APP_EMAIL (`AppEmailJob`, jobParams {"app": id}): mail an app's report to its recipients.

The body is the app's HTML report (one table per dataset, `report.py`); the screenshot (the same
report rendered by Chromium, or the definition's `url`, i.e. the live dashboard, shown inline
then) and the report page are attached. Mail goes through an Airflow SMTP connection
(`[taskcenter] smtp_conn_id`, default `taskcenter_smtp`) with the SMTP provider's hook, so any
deployment's mail server is configured the Airflow way; the embedded default points it at the
local mail catcher (`taskcenter.launcher.mail_catcher`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from taskcenter.adapters.jobs import report, screenshot
from taskcenter.adapters.jobs.base import JobDefinitionError, JobRun, table

RESULT_COLUMNS = ["recipients", "subject", "attachments", "bytes"]
_ADDRESS = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+")


def run(job: JobRun) -> None:
    app_id = job.param("app")
    entity = job.entity("APP_EMAIL", app_id)
    sub_key = str(app_id)
    log = job.step_log(sub_key)
    definition = entity.definition
    recipients = recipients_of(definition, job_class=job.job_class)
    subject = subject_of(definition, app_title=entity.title, job_class=job.job_class)
    width, height = screenshot.viewport(definition, job_class=job.job_class)
    url = screenshot.page_url(definition, job_class=job.job_class, resolve=job.resolve_path)
    # A missing browser or mail connection fails at once, before any data is read.
    browser = screenshot.browser_for(job)
    conn_id = job.option("smtp_conn_id")
    connection = smtp_connection(conn_id)
    sender = connection.extra_dejson.get("from_email") or job.option("email_from")
    folder = job.output_folder()

    sections = report.collect_sections(job, app_id, log=log)
    generated_at = report.report_time(job)
    report_page = report.render_app_report(app_title=entity.title, sections=sections, generated_at=generated_at)
    report_path = report.write_report(path=folder / f"app-{app_id}-report.html", page=report_page)
    log.info("report of %d dataset(s) written to %s", len(sections), report_path)

    png_path = folder / f"app-{app_id}.png"
    page = url or report_path.resolve().as_uri()
    log.info("rendering %s at %dx%d for the attachment", url or "the report", width, height)
    shot = screenshot.take(job, url=page, png_path=png_path, width=width, height=height, browser=browser, log=log)
    # A dashboard screenshot shows what the tables do not, so it goes inline; a picture of the
    # report itself would only repeat the body.
    body = report_page
    if url is not None:
        body = report.render_app_report(
            app_title=entity.title, sections=sections, generated_at=generated_at, screenshot_cid=png_path.name
        )

    files = [shot.path, report_path.resolve()]
    job.checkpoint(f"the mail to {', '.join(recipients)}")  # a cancelled run sends nothing
    send(
        conn_id=conn_id,
        connection=connection,
        sender=sender,
        recipients=recipients,
        subject=subject,
        html=body,
        files=files,
    )
    size = sum(path.stat().st_size for path in files)
    to = ", ".join(recipients)
    log.info("mailed %r from %s to %s through connection %s (%d attachment bytes)", subject, sender, to, conn_id, size)
    job.publish(sub_key, table(RESULT_COLUMNS, [[to, subject, ", ".join(p.name for p in files), size]]))


def recipients_of(definition: Mapping[str, Any], *, job_class: str) -> list[str]:
    """The definition's recipients: a non-empty list of plain addresses, duplicates dropped."""
    raw = definition.get("recipients")
    if not isinstance(raw, list) or not raw:
        raise JobDefinitionError(
            f"{job_class}: definition.recipients must be a non-empty list of e-mail addresses, got {raw!r}"
        )
    recipients: list[str] = []
    for item in raw:
        address = item.strip() if isinstance(item, str) else item
        if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
            raise JobDefinitionError(f"{job_class}: definition.recipients has {item!r}, which is not an e-mail address")
        if address not in recipients:
            recipients.append(address)
    return recipients


def subject_of(definition: Mapping[str, Any], *, app_title: str, job_class: str) -> str:
    """The definition's subject or "<app title> report", on one line (no header injection)."""
    raw = definition.get("subject")
    if raw is not None and not isinstance(raw, str):
        raise JobDefinitionError(f"{job_class}: definition.subject must be a string, got {raw!r}")
    return " ".join((raw or "").split()) or " ".join(f"{app_title} report".split())


def smtp_connection(conn_id: str) -> Any:
    """The Airflow connection; a JobDefinitionError when it is missing or not an SMTP connection."""
    from airflow.sdk import BaseHook

    try:
        connection = BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException and the execution API's variants
        raise JobDefinitionError(f"Airflow connection {conn_id!r} is not defined: {exc}") from exc
    if connection.conn_type not in (None, "", "smtp", "email"):
        raise JobDefinitionError(f"Airflow connection {conn_id!r} is a {connection.conn_type} connection, not smtp")
    return connection


def send(
    *,
    conn_id: str,
    connection: Any,
    sender: str,
    recipients: Sequence[str],
    subject: str,
    html: str,
    files: Sequence[Path],
) -> None:
    """Send through the SMTP connection with the provider's hook.

    TLS follows the provider's extras: `disable_ssl` and `disable_tls` must be true for a plain
    server such as the mail catcher, since the provider's default is SMTP over SSL.
    """
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    try:
        with SmtpHook(smtp_conn_id=conn_id) as client:
            client.send_email_smtp(
                to=list(recipients),
                subject=subject,
                html_content=html,
                from_email=sender,
                files=[str(f) for f in files],
            )
    except Exception as exc:
        extra = connection.extra_dejson
        hint = ""
        if not (extra.get("disable_ssl") and extra.get("disable_tls")):
            hint = " (a server without TLS needs the connection extras disable_ssl and disable_tls set to true)"
        where = f"{connection.host}:{connection.port}"
        raise RuntimeError(f"sending mail through SMTP connection {conn_id!r} ({where}) failed: {exc}{hint}") from exc
