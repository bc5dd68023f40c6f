"""The mail plane: Postfix and Dovecot configuration, the policy services (NB-7.2a, NB-7.2b)."""
