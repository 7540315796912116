"""An example third-party web app that signs users in with Ostiary and lists their apps.

It uses Authlib's OAuth 2.0 client: authorization code with PKCE (S256) and state, then the
Platform API with the access token. Configure it with environment variables and run it with
uvicorn:

    OSTIARY_URL=https://localhost:5000 CLIENT_ID=... CLIENT_SECRET=... \\
    REDIRECT_URI=http://127.0.0.1:8000/callback OSTIARY_CA=var/tls/cert.pem \\
    uvicorn examples.third_party_app:app --port 8000
"""

from __future__ import annotations

import html
import os
import secrets

from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse

OSTIARY = os.environ.get("OSTIARY_URL", "https://localhost:5000")
VERIFY: str | bool = os.environ.get("OSTIARY_CA") or True
PENDING: dict[str, tuple[str, str]] = {}  # browser cookie -> (state, code verifier)

app = FastAPI(title="Example app")


def oauth() -> OAuth2Client:
    """An Authlib client for our registration at Ostiary."""
    return OAuth2Client(
        os.environ["CLIENT_ID"],
        os.environ["CLIENT_SECRET"],
        scope="read",
        redirect_uri=os.environ["REDIRECT_URI"],
        verify=VERIFY,
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name)
    )


@app.get("/", response_class=HTMLResponse)
def home() -> str:
    """A page with one link."""
    return '<h1>Example app</h1><a id="signin" href="/signin">Sign in with Ostiary</a>'


@app.get("/signin")
def signin() -> RedirectResponse:
    """Send the browser to Ostiary's authorization endpoint, with PKCE and state."""
    verifier = secrets.token_urlsafe(48)
    url, state = oauth().create_authorization_url(
        f"{OSTIARY}/oauth/authorize",
        code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
    )
    browser = secrets.token_urlsafe(16)
    PENDING[browser] = (state, verifier)
    response = RedirectResponse(url)
    response.set_cookie("example_browser", browser, httponly=True, samesite="lax")
    return response


@app.get("/callback", response_class=HTMLResponse)
def callback(request: Request) -> str:
    """Check state, exchange the code (with the verifier), list the user's apps."""
    state, verifier = PENDING.pop(request.cookies.get("example_browser", ""), ("", ""))
    if not state or request.query_params.get("state") != state:
        return "<h1>Sign-in failed</h1><p>The state did not match.</p>"
    if "error" in request.query_params:
        return f"<h1>Sign-in failed</h1><p>{html.escape(request.query_params['error'])}</p>"
    client = oauth()
    token = client.fetch_token(
        f"{OSTIARY}/oauth/token", authorization_response=str(request.url), code_verifier=verifier
    )
    apps = client.get(
        f"{OSTIARY}/apps", headers={"Accept": "application/vnd.heroku+json; version=3"}
    ).json()
    names = "".join(f"<li>{html.escape(app_['name'])}</li>" for app_ in apps)
    return (
        f'<h1>Your apps</h1><ul id="apps">{names}</ul><p>scope: {html.escape(token["scope"])}</p>'
    )
