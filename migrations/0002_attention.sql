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
CREATE INDEX `attention_kind_status_since_idx` ON `attention` (`kind`,`status`,`since`);