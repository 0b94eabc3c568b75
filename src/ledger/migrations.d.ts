// Types of drizzle-kit's generated `migrations/migrations.js` (which imports the .sql files as text).
declare module "*/migrations/migrations.js" {
  const migrations: {
    journal: { entries: { idx: number; when: number; tag: string; breakpoints: boolean }[] };
    migrations: Record<string, string>;
  };
  export default migrations;
}
declare module "*.sql" {
  const text: string;
  export default text;
}
