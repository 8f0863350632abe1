// Package jobs runs oauthdesk's background work.
//
// Runner (runner.go) runs every background loop of a server as a Job: a
// name, an interval, a round and an optional final round on shutdown — a
// ticker loop that stops when its context ends, as dex runs its jobs. It
// records each round (Status: last run, duration, last error, runs and
// failures) for the oauthdesk_job_* metrics and the "Background jobs"
// table of /admin/settings, logs a failure once while it repeats, and
// logs each job's runs when it stops. internal/server lists the jobs
// (usage flush, change watch, SQLite checkpoints, failed sign-in audit,
// signing-key reload, directory sync, audit checkpoints, token expiry
// notices, pruning); this package holds those that are more than a call:
//
//   - the expiry report (jobs.go, sinks.go, report_pats.go): on a cron
//     schedule (robfig/cron: "0 7 * * 1", "@every 1h", …) and on demand,
//     delivered to each configured sink — a directory, a webhook, e-mail
//     (mail_send.go also mails single notices) — with every delivery
//     recorded (report_runs) and every run an audit event; a lease in the
//     database keeps two replicas from both sending, and its scheduled
//     runs are tracked by the Runner as "expiry-report";
//   - the audit checkpoints (audit_checkpoint.go): the signed head of the
//     audit chain written outside the database;
//   - the directory sync (directory_sync.go): under a lease shared by the
//     replicas.
package jobs
