CREATE TABLE `item_directory` (
	`item_id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`next_reconcile_at` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `item_directory_user_idx` ON `item_directory` (`user_id`);--> statement-breakpoint
CREATE INDEX `item_directory_reconcile_idx` ON `item_directory` (`next_reconcile_at`);