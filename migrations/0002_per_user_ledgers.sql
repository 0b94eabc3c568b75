CREATE TABLE `item_directory` (
	`item_id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`next_reconcile_at` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `item_directory_user_idx` ON `item_directory` (`user_id`);--> statement-breakpoint
CREATE INDEX `item_directory_reconcile_idx` ON `item_directory` (`next_reconcile_at`);--> statement-breakpoint
CREATE TABLE `attention` (
	`kind` text NOT NULL,
	`id` text NOT NULL,
	`user_id` text NOT NULL,
	`status` text NOT NULL,
	`since` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`kind`, `id`)
);
--> statement-breakpoint
CREATE INDEX `attention_kind_status_since_idx` ON `attention` (`kind`,`status`,`since`);--> statement-breakpoint
CREATE INDEX `attention_user_idx` ON `attention` (`user_id`);--> statement-breakpoint
DROP TABLE `accounts`;--> statement-breakpoint
DROP TABLE `category_sync_jobs`;--> statement-breakpoint
DROP TABLE `items`;--> statement-breakpoint
DROP TABLE `transactions`;