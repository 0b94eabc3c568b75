CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`pluggy_id` text NOT NULL,
	`item_id` text NOT NULL,
	`user_id` text NOT NULL,
	`name` text,
	`type` text,
	`subtype` text,
	`number` text,
	`balance_minor` integer,
	`currency_code` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_pluggy_id_uq` ON `accounts` (`pluggy_id`);--> statement-breakpoint
CREATE INDEX `accounts_user_idx` ON `accounts` (`user_id`,`item_id`,`id`);--> statement-breakpoint
CREATE INDEX `accounts_item_idx` ON `accounts` (`item_id`);--> statement-breakpoint
CREATE TABLE `categories` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`parent_id` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `categories_parent_idx` ON `categories` (`parent_id`);--> statement-breakpoint
CREATE INDEX `categories_name_idx` ON `categories` (`name`);--> statement-breakpoint
CREATE TABLE `category_mappings` (
	`category_id` text PRIMARY KEY NOT NULL,
	`pluggy_category_id` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `category_mappings_pluggy_idx` ON `category_mappings` (`pluggy_category_id`);--> statement-breakpoint
CREATE TABLE `category_sync_jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`transaction_id` text NOT NULL,
	`user_id` text NOT NULL,
	`pluggy_transaction_id` text NOT NULL,
	`category_id` text NOT NULL,
	`pluggy_category_id` text,
	`version` integer NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`due_at` text NOT NULL,
	`synced_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `category_sync_jobs_transaction_uq` ON `category_sync_jobs` (`transaction_id`);--> statement-breakpoint
CREATE INDEX `category_sync_jobs_status_due_idx` ON `category_sync_jobs` (`status`,`due_at`);--> statement-breakpoint
CREATE INDEX `category_sync_jobs_status_updated_idx` ON `category_sync_jobs` (`status`,`updated_at`);--> statement-breakpoint
CREATE TABLE `erasure_requests` (
	`user_id` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`requested_at` text NOT NULL,
	`completed_at` text
);
--> statement-breakpoint
CREATE TABLE `items` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`connector_id` integer,
	`connector_name` text,
	`connector_image_url` text,
	`status` text,
	`execution_status` text,
	`error_code` text,
	`error_message` text,
	`last_updated_at` text,
	`pluggy_created_at` text,
	`transactions_watermark` text,
	`last_reconciled_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `items_user_idx` ON `items` (`user_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `metric_counters` (
	`bucket` text NOT NULL,
	`name` text NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`bucket`, `name`)
);
--> statement-breakpoint
CREATE INDEX `metric_counters_name_bucket_idx` ON `metric_counters` (`name`,`bucket`);--> statement-breakpoint
CREATE TABLE `pluggy_categories` (
	`id` text PRIMARY KEY NOT NULL,
	`description` text NOT NULL,
	`description_translated` text,
	`parent_id` text,
	`parent_description` text,
	`fetched_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `pluggy_categories_parent_idx` ON `pluggy_categories` (`parent_id`);--> statement-breakpoint
CREATE TABLE `transactions` (
	`id` text PRIMARY KEY NOT NULL,
	`pluggy_id` text,
	`user_id` text NOT NULL,
	`account_id` text NOT NULL,
	`item_id` text,
	`date` text NOT NULL,
	`description` text NOT NULL,
	`description_folded` text NOT NULL,
	`amount_minor` integer NOT NULL,
	`currency_code` text NOT NULL,
	`type` text NOT NULL,
	`status` text NOT NULL,
	`category_id` text,
	`category_set_by_user` integer DEFAULT false NOT NULL,
	`category_version` integer DEFAULT 0 NOT NULL,
	`pluggy_category_id` text,
	`pluggy_category_name` text,
	`category_sync_skip_reason` text,
	`category_sync_skipped_at` text,
	`pluggy_created_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `transactions_pluggy_id_uq` ON `transactions` (`pluggy_id`);--> statement-breakpoint
CREATE INDEX `transactions_user_date_idx` ON `transactions` (`user_id`,"date" desc,"id" desc);--> statement-breakpoint
CREATE INDEX `transactions_user_account_date_idx` ON `transactions` (`user_id`,`account_id`,"date" desc,"id" desc);--> statement-breakpoint
CREATE INDEX `transactions_user_item_date_idx` ON `transactions` (`user_id`,`item_id`,"date" desc,"id" desc);--> statement-breakpoint
CREATE INDEX `transactions_user_category_date_idx` ON `transactions` (`user_id`,`category_id`,"date" desc,"id" desc);--> statement-breakpoint
CREATE INDEX `transactions_item_idx` ON `transactions` (`item_id`);--> statement-breakpoint
CREATE INDEX `transactions_account_idx` ON `transactions` (`account_id`);--> statement-breakpoint
CREATE TABLE `webhook_events` (
	`event_id` text PRIMARY KEY NOT NULL,
	`event` text NOT NULL,
	`item_id` text,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`replay_count` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`received_at` text NOT NULL,
	`processed_at` text,
	`body_sha256` text NOT NULL,
	`r2_key` text NOT NULL,
	`content_type` text,
	`matched_key` text,
	`request_id` text,
	`payload_purged_at` text,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_events_status_received_idx` ON `webhook_events` (`status`,`received_at`);--> statement-breakpoint
CREATE INDEX `webhook_events_event_received_idx` ON `webhook_events` (`event`,`received_at`);--> statement-breakpoint
CREATE INDEX `webhook_events_item_idx` ON `webhook_events` (`item_id`,`received_at`);--> statement-breakpoint
CREATE INDEX `webhook_events_received_idx` ON `webhook_events` (`received_at`);