-- Webhook `accepted` and signed-but-invalid `rejected` counts used to be derived from webhook_events rows;
-- they are now counters written at intake (erasure deletes rows, and metrics must keep what happened).
-- Carry the rows that exist today over into the hourly counters, so past buckets keep their counts.
-- `WHERE true` keeps SQLite from reading ON CONFLICT as part of the SELECT.
INSERT INTO `metric_counters` (`bucket`, `name`, `count`)
SELECT substr(`received_at`, 1, 13) || ':00:00Z',
       CASE WHEN `status` = 'rejected' THEN 'webhooks.rejected' ELSE 'webhooks.accepted' END,
       count(*)
FROM `webhook_events`
WHERE true
GROUP BY 1, 2
ON CONFLICT (`bucket`, `name`) DO UPDATE SET `count` = `metric_counters`.`count` + excluded.`count`;
