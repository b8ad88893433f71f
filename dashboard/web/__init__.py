"""The web layer: the Dash app on its FastAPI server and its ASGI entry, sign-in (local
accounts, OIDC, sessions), authorization of every request, the hardening headers, static
files, the screens' heartbeats and the shift lead's corrections."""
