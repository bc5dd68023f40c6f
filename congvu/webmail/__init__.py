"""Webmail: Roundcube served by a private Apache, signing in through congvu's SSO."""
