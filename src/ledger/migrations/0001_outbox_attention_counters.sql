CREATE TABLE `ledger_counters` (
	`bucket` text NOT NULL,
	`name` text NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`bucket`, `name`)
);
--> statement-breakpoint
ALTER TABLE `category_sync_jobs` ADD `pending_since` text;--> statement-breakpoint
ALTER TABLE `category_sync_jobs` ADD `attention_status` text;