"""The mail of account recovery and verification: each a text part and an HTML part, each
naming what happened and what to do. Only the mail that must carry a link carries one (and is
queued sealed); no password or code is ever in one."""

from __future__ import annotations

import html

from ostiary.mail.messages import Mail


def _mail(to: str, subject: str, paragraphs: list[str], link: str | None = None) -> Mail:
    """A mail of plain paragraphs, with the link (if any) after the first one."""
    text_parts = [paragraphs[0], *([link] if link else []), *paragraphs[1:]]
    html_parts = [f"<p>{html.escape(paragraphs[0])}</p>"]
    if link:
        escaped = html.escape(link)
        html_parts.append(f'<p><a href="{escaped}">{escaped}</a></p>')
    html_parts += [f"<p>{html.escape(paragraph)}</p>" for paragraph in paragraphs[1:]]
    return Mail(to=to, subject=subject, text="\n\n".join(text_parts), html="".join(html_parts))


def reset_link_mail(to: str, link: str, minutes: int) -> Mail:
    """The password reset link, asked for on "Forgot password?"."""
    return _mail(
        to,
        "Reset your Ostiary password",
        [
            "Someone (hopefully you) asked to reset the password of your Ostiary account. "
            "Follow this link to choose a new one:",
            f"The link works once, for {minutes} minutes. Using it signs out every session "
            "and regenerates your API key.",
            "If you did not ask for this, ignore this mail: your password stays as it is.",
        ],
        link,
    )


def verification_mail(to: str, link: str, *, change: bool) -> Mail:
    """The link that proves the owner reads ``to`` (a new account's, or a new address)."""
    opening = (
        "Confirm that this is the new email address of your Ostiary account:"
        if change
        else "Confirm the email address of your new Ostiary account:"
    )
    after = (
        "Your email changes when you follow the link; until then the old address stays."
        if change
        else "Until you do, your account is marked unverified."
    )
    return _mail(
        to,
        "Confirm your email address for Ostiary",
        [opening, f"{after} The link works once, for 24 hours.", _NOT_YOU],
        link,
    )


def email_changed_notice(to: str, new_email: str, when: str) -> Mail:
    """Told to the old address once a change of email took effect."""
    return _mail(
        to,
        "Your Ostiary email address was changed",
        [
            f"The email address of your Ostiary account was changed to {new_email} at {when}. "
            "Mail about the account now goes there.",
            "If this was not you, ask the server's administrator for help at once.",
        ],
    )


_NOT_YOU = "If you did not ask for this, ignore this mail."
