import { Hono, type Context } from "hono";
import type { CategoryMappingDto, PluggyCategoryDto } from "../../../category-sync/mappings.service.ts";
import type { ConsoleEnv } from "../console.env.ts";
import { signedIn } from "../console-guard.tsx";
import { renderPage } from "../console-render.tsx";
import { setFlash } from "../console-session.ts";
import { errorFlash } from "../components/ui.tsx";
import { CategoryMappingsPage, pluggyLabel, resolvePluggyCategory } from "./category-mappings.page.tsx";

const BASE = "/admin/category-mappings";

interface ImportResult {
  total: number;
  created: number;
  existing: number;
}

/** Back to the list, keeping the operator's search and scrolled to the row they changed. */
function backToList(c: Context<ConsoleEnv>, query: string, categoryId?: string): Response {
  const search = query ? `?q=${encodeURIComponent(query)}` : "";
  return c.redirect(`${BASE}${search}${categoryId ? `#category-${categoryId}` : ""}`, 303);
}

const formText = (form: Record<string, unknown>, key: string): string => (typeof form[key] === "string" ? form[key] : "");

export const categoryMappingRoutes = new Hono<ConsoleEnv>({ strict: false })
  .get("/category-mappings", async (c) => {
    const { api, session } = signedIn(c);
    const [mappings, tree] = await Promise.all([
      api.get<CategoryMappingDto[]>("/category-mappings/"),
      api.get<PluggyCategoryDto[]>("/pluggy-categories/"),
    ]);
    return renderPage(
      c,
      { title: "Category mappings", active: "category-mappings" },
      <CategoryMappingsPage
        csrfToken={session.csrfToken}
        query={(c.req.query("q") ?? "").slice(0, 100)}
        onlyUnmapped={c.req.query("show") === "unmapped"}
        mappings={mappings.ok ? mappings.data : mappings.error}
        pluggyTree={tree.ok ? tree.data : tree.error}
      />,
    );
  })
  .post("/category-mappings/import-pluggy", async (c) => {
    const { api, secret } = signedIn(c);
    const result = await api.send<ImportResult>("POST", "/category-mappings/import-pluggy/");
    await setFlash(
      c,
      secret,
      result.ok
        ? {
            kind: "success",
            message: `Imported Pluggy's tree: ${result.data.created} local categories created, ${result.data.existing} already mapped (${result.data.total} in Pluggy's tree).`,
          }
        : errorFlash(result.error, "Importing Pluggy's categories"),
    );
    return backToList(c, "");
  })
  .post("/category-mappings/:categoryId/remove", async (c) => {
    const { api, secret } = signedIn(c);
    const categoryId = c.req.param("categoryId");
    const form = await c.req.parseBody();
    const result = await api.send<null>("DELETE", `/category-mappings/${encodeURIComponent(categoryId)}/`);
    await setFlash(c, secret, result.ok ? { kind: "success", message: "Mapping removed: that category's changes are no longer synced to Pluggy." } : errorFlash(result.error, "Removing the mapping"));
    return backToList(c, formText(form, "q"), categoryId);
  })
  .post("/category-mappings/:categoryId", async (c) => {
    const { api, secret } = signedIn(c);
    const categoryId = c.req.param("categoryId");
    const form = await c.req.parseBody();
    const query = formText(form, "q");
    const typed = formText(form, "pluggy_category_id");
    const tree = await api.get<PluggyCategoryDto[]>("/pluggy-categories/");
    const resolved = resolvePluggyCategory(typed, tree.ok ? tree.data : []);
    if ("error" in resolved) {
      await setFlash(c, secret, { kind: "error", message: `Mapping not changed: ${resolved.error}.` });
      return backToList(c, query, categoryId);
    }
    const result = await api.send<CategoryMappingDto>("PUT", `/category-mappings/${encodeURIComponent(categoryId)}/`, {
      pluggy_category_id: resolved.id,
    });
    if (!result.ok) {
      await setFlash(c, secret, errorFlash(result.error, "Setting the mapping"));
      return backToList(c, query, categoryId);
    }
    const pluggy = tree.ok ? tree.data.find((p) => p.id === resolved.id) : undefined;
    await setFlash(c, secret, {
      kind: "success",
      message: `${result.data.category_name} now maps to ${pluggy ? pluggyLabel(pluggy) : (result.data.pluggy_category_name ?? "Pluggy category")} (${resolved.id}).`,
    });
    return backToList(c, query, categoryId);
  });
