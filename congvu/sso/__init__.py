"""The OpenID Connect provider: sign-in, sessions, single sign-out. Interface: docs/sso.md."""
