"""Outgoing mail through the configured SMTP server (``OSTIARY_SMTP_URL``).

- ``smtp``: the server's URL parsed into an :class:`~ostiary.mail.smtp.SmtpServer`, and the
  :class:`~ostiary.mail.smtp.Mailer` that sends over smtplib (plain, STARTTLS or implicit TLS).
- ``messages``: a :class:`~ostiary.mail.messages.Mail` (recipient, subject, text and HTML parts)
  and its MIME form.

Nothing here knows storage: the outbox that queues mail and retries it is a table of the
packages above (``webhooks.outbox``). Sending blocks, so only jobs (threads) call it.
"""
