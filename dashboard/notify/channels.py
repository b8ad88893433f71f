"""Delivery of one message to one channel: e-mail over SMTP, a webhook POST, or apprise.

Recipients, webhook URLs and SMTP credentials come from environment variables and never
reach a log or an error text: a failure is a DeliveryError whose message has them removed."""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from urllib.parse import urlsplit

import httpx

from dashboard.config import NotifyChannel
from dashboard.notify.messages import Message


class DeliveryError(Exception):
    """A delivery that did not go through; its text is safe to log."""


class _Hide(logging.Filter):
    """Takes the channels' addresses out of the HTTP libraries' own log lines (httpx logs
    every request with its URL, and a webhook's URL is its secret)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        hidden = redact(text, self.secrets)
        if hidden != text:
            record.msg, record.args = hidden, ()
        return True


_HIDE = _Hide()
# a logger's filter is not its children's: each logger that writes a request's line, by name
# (requests and urllib3 are apprise's; urllib3 logs each request's path, a URL's secret part)
for _name in ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "apprise",
              "urllib3.connectionpool", "requests"):
    logging.getLogger(_name).addFilter(_HIDE)


def deliver(channel: NotifyChannel, message: Message, env: Mapping[str, str] = os.environ) -> None:
    """Send `message` through `channel`, within its timeout; raises DeliveryError."""
    secrets = _secrets(channel, env)
    if any(s not in _HIDE.secrets for s in secrets):
        _HIDE.secrets = sorted({*_HIDE.secrets, *secrets}, key=len, reverse=True)
    try:
        if channel.kind == "email":
            _email(channel, message, env)
        elif channel.kind == "webhook":
            _webhook(channel, message, env)
        else:
            _apprise(channel, message, env)
    except DeliveryError as err:
        raise DeliveryError(redact(str(err), secrets)) from None
    except (smtplib.SMTPException, OSError, httpx.HTTPError) as err:
        raise DeliveryError(redact(f"{type(err).__name__}: {err}", secrets)) from None


def _need(env: Mapping[str, str], name: str | None, what: str) -> str:
    value = env.get(name or "", "").strip()
    if not value:
        raise DeliveryError(f"{what}: environment variable {name} is not set")
    return value


def _email(channel: NotifyChannel, message: Message, env: Mapping[str, str]) -> None:
    to = [a.strip() for a in _need(env, channel.to_env, "recipients").split(",") if a.strip()]
    mail = EmailMessage()
    mail["From"] = channel.sender or ""
    mail["To"] = ", ".join(to)
    mail["Subject"] = f"{message.title(channel.language)}: {message.text(channel.language)}"[:200]
    mail.set_content(message.text(channel.language))
    host, port, timeout = channel.smtp_host or "", channel.smtp_port, channel.timeout_seconds
    context = ssl.create_default_context()
    smtp = (smtplib.SMTP_SSL(host, port, timeout=timeout, context=context) if channel.smtp_tls == "tls"
            else smtplib.SMTP(host, port, timeout=timeout))
    with smtp:
        if channel.smtp_tls == "starttls":
            smtp.starttls(context=context)
        if channel.smtp_user_env:
            smtp.login(_need(env, channel.smtp_user_env, "SMTP user"),
                       env.get(channel.smtp_password_env or "", ""))
        smtp.send_message(mail, to_addrs=to)


def _webhook(channel: NotifyChannel, message: Message, env: Mapping[str, str]) -> None:
    url = _need(env, channel.url_env, "webhook address")
    response = httpx.post(url, json=message.webhook_body(channel.language), timeout=channel.timeout_seconds)
    if response.status_code >= 300:
        # not the exception's text: it carries the address
        raise DeliveryError(f"the webhook answered HTTP {response.status_code}")


def _apprise(channel: NotifyChannel, message: Message, env: Mapping[str, str]) -> None:
    try:
        import apprise  # the optional extra "apprise"
    except ImportError:
        raise DeliveryError("apprise is not installed (pip install ohjaustaulu[apprise])") from None
    urls = _need(env, channel.apprise_env, "apprise address")
    sender = apprise.Apprise()
    sender.add([u.strip() for u in urls.split(",") if u.strip()])
    quiet = logging.getLogger("apprise")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # apprise names its URLs in its own log lines
    try:
        ok = sender.notify(body=message.text(channel.language), title=message.title(channel.language))
    finally:
        quiet.setLevel(level)
    if not ok:
        raise DeliveryError("apprise could not deliver the message")


def _secrets(channel: NotifyChannel, env: Mapping[str, str]) -> list[str]:
    """Every value that must not be shown: each environment variable the channel names,
    and each comma-separated part of it (one address of several)."""
    out: list[str] = []
    for name in (channel.to_env, channel.url_env, channel.apprise_env, channel.smtp_user_env,
                 channel.smtp_password_env):
        value = env.get(name or "", "")
        parts = [p.strip() for p in value.split(",")]
        out += [v for v in [value, *parts, *(u for p in parts for u in _url_parts(p))] if len(v) >= 3]
    return sorted(set(out), key=len, reverse=True)


def _url_parts(value: str) -> list[str]:
    """The parts of a URL a library may log alone: its path and query (a webhook's token),
    its user and password; not the bare host."""
    if "://" not in value:
        return []
    url = urlsplit(value)
    return [p for p in (url.path, url.query, url.username or "", url.password or "",
                        f"{url.path}?{url.query}" if url.query else "") if p and p != "/"]


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text
