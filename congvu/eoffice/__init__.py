"""The document management and executive system (QLVB&ĐH, "eOffice"; issue 7, spec §7 GL).

Domain layer only: models, pure rules (:mod:`rules`), settings (:mod:`params`), file
storage (:mod:`files`), writes (:mod:`actions`), reads with authorisation
(:mod:`access`, :mod:`selectors`) and the time-based rules (:mod:`due`). See README.md.
"""
