"""What both sides of the app stand on: the database on either engine (SQLite or PostgreSQL)
and its migrations, leases on names shared by replicas, per-person limits, who a Slack user
is (people, rosters of listed users and user groups), fair worker pools, and logging.

It imports neither `approvals` nor `bot`; its modules are used directly (`infra.db`, …).
"""
