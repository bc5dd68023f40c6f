"""The web console (issue 6): the operators' and the agencies' pages, signed in through
congvu's own SSO. Views are thin: the selectors decide who may see what."""
