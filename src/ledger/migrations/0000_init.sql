CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`pluggy_id` text NOT NULL,
	`item_id` text NOT NULL,
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
CREATE INDEX `accounts_item_idx` ON `accounts` (`item_id`,`id`);--> statement-breakpoint
CREATE TABLE `category_sync_jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`transaction_id` text NOT NULL,
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
CREATE TABLE `items` (
	`id` text PRIMARY KEY NOT NULL,
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
CREATE INDEX `items_created_idx` ON `items` (`created_at`);--> statement-breakpoint
CREATE TABLE `ledger_meta` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `transactions` (
	`id` text PRIMARY KEY NOT NULL,
	`pluggy_id` text,
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
CREATE INDEX `transactions_date_idx` ON `transactions` ("date" desc,"id" desc);--> statement-breakpoint
CREATE INDEX `transactions_account_date_idx` ON `transactions` (`account_id`,"date" desc,"id" desc);--> statement-breakpoint
CREATE INDEX `transactions_item_date_idx` ON `transactions` (`item_id`,"date" desc,"id" desc);--> statement-breakpoint
CREATE INDEX `transactions_category_date_idx` ON `transactions` (`category_id`,"date" desc,"id" desc);