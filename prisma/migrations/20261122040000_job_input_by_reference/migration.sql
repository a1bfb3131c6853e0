-- A job created from an inbox event no longer copies the event's payload: `input` is NULL and
-- the worker reads `webhook_events.payload` when it claims the job. Each payload is stored
-- (and written to the WAL) once instead of twice, and the job row that is updated three times
-- per run (enqueued, claimed, completed) stays small. Jobs without an event keep their input.
ALTER TABLE "jobs" ALTER COLUMN "input" DROP NOT NULL;
