import type { FC } from "hono/jsx";
import type { CategoryMappingDto, PluggyCategoryDto } from "../../../category-sync/mappings.service.ts";
import type { ApiError } from "../console-api.ts";
import { ApiErrorNotice, CsrfField, Instant } from "../components/ui.tsx";

/** "Parent › Name (translation)": how a Pluggy category reads in the picker and the tree. */
export function pluggyLabel(category: PluggyCategoryDto): string {
  const name = category.parent_description ? `${category.parent_description} › ${category.description}` : category.description;
  return category.description_translated && category.description_translated !== category.description
    ? `${name} (${category.description_translated})`
    : name;
}

/**
 * What an operator typed into the picker → a Pluggy id: the 8-digit id itself, or a name that matches
 * exactly one category (its description, translation or "Parent › Name" label), so the form works
 * without the browser's datalist too.
 */
export function resolvePluggyCategory(input: string, tree: PluggyCategoryDto[]): { id: string } | { error: string } {
  const text = input.trim();
  if (text === "") return { error: "choose a Pluggy category" };
  const leadingId = /^(\d{8})\b/.exec(text)?.[1];
  if (leadingId) return { id: leadingId };
  const folded = text.toLocaleLowerCase("pt-BR");
  const matches = tree.filter((c) =>
    [c.description, c.description_translated ?? "", pluggyLabel(c)].some((name) => name.toLocaleLowerCase("pt-BR") === folded),
  );
  const [only, ...others] = matches;
  if (only && others.length === 0) return { id: only.id };
  if (matches.length > 1) return { error: `"${text}" matches ${matches.length} Pluggy categories; pick one by its id` };
  return { error: `"${text}" is not one of Pluggy's categories; pick one from the list` };
}

/** Local categories in tree order: each top-level category (by name) followed by its children. */
export function treeOrder(mappings: CategoryMappingDto[]): Array<CategoryMappingDto & { depth: number; parentName: string | null }> {
  const byId = new Map(mappings.map((m) => [m.category_id, m]));
  const children = new Map<string | null, CategoryMappingDto[]>();
  for (const m of mappings) {
    const parent = m.parent_id && byId.has(m.parent_id) ? m.parent_id : null;
    children.set(parent, [...(children.get(parent) ?? []), m]);
  }
  const out: Array<CategoryMappingDto & { depth: number; parentName: string | null }> = [];
  const seen = new Set<string>();
  const walk = (parent: string | null, depth: number) => {
    for (const m of children.get(parent) ?? []) {
      if (seen.has(m.category_id)) continue;
      seen.add(m.category_id);
      out.push({ ...m, depth, parentName: parent ? (byId.get(parent)?.category_name ?? null) : null });
      walk(m.category_id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

export interface CategoryMappingsProps {
  csrfToken: string;
  query: string;
  onlyUnmapped: boolean;
  mappings: CategoryMappingDto[] | ApiError;
  pluggyTree: PluggyCategoryDto[] | ApiError;
}

const PickerDatalist: FC<{ tree: PluggyCategoryDto[] }> = ({ tree }) => (
  <datalist id="pluggy-categories">
    {tree.map((category) => (
      <option value={category.id} label={pluggyLabel(category)}>
        {pluggyLabel(category)}
      </option>
    ))}
  </datalist>
);

const MappingRow: FC<{ row: ReturnType<typeof treeOrder>[number]; csrfToken: string; query: string; known: Map<string, PluggyCategoryDto> }> = ({
  row,
  csrfToken,
  query,
  known,
}) => {
  const inputId = `map-${row.category_id}`;
  const pluggy = row.pluggy_category_id ? known.get(row.pluggy_category_id) : undefined;
  return (
    <tr id={`category-${row.category_id}`}>
      <th scope="row">
        {row.depth > 0 ? <span class="muted">{row.parentName ?? "…"} › </span> : null}
        {row.category_name}
      </th>
      <td data-label="Pluggy category">
        {row.pluggy_category_id ? (
          <>
            {pluggy ? pluggyLabel(pluggy) : (row.pluggy_category_name ?? <span class="muted">not in Pluggy's tree</span>)}{" "}
            <code>{row.pluggy_category_id}</code>
          </>
        ) : (
          <span class="badge badge--neutral">not mapped</span>
        )}
      </td>
      <td data-label="Mapped">
        <Instant value={row.updated_at} />
      </td>
      <td data-label="Change">
        <form method="post" action={`/admin/category-mappings/${row.category_id}`} class="inline-form">
          <CsrfField token={csrfToken} />
          <input type="hidden" name="q" value={query} />
          <label for={inputId} class="visually-hidden">
            Pluggy category for {row.category_name}
          </label>
          <input
            type="text"
            id={inputId}
            name="pluggy_category_id"
            list="pluggy-categories"
            class="input-id"
            required
            autocomplete="off"
            placeholder="id or name"
            value={row.pluggy_category_id ?? ""}
          />
          <button type="submit" class="small">
            {row.pluggy_category_id ? "Change" : "Set"}
          </button>
        </form>
      </td>
      <td data-label="">
        {row.pluggy_category_id ? (
          <form method="post" action={`/admin/category-mappings/${row.category_id}/remove`}>
            <CsrfField token={csrfToken} />
            <input type="hidden" name="q" value={query} />
            <button type="submit" class="danger small" aria-label={`Remove the mapping of ${row.category_name}`}>
              Remove
            </button>
          </form>
        ) : null}
      </td>
    </tr>
  );
};

const matchesQuery = (query: string, ...texts: Array<string | null | undefined>) => {
  const q = query.trim().toLocaleLowerCase("pt-BR");
  return q === "" || texts.some((t) => (t ?? "").toLocaleLowerCase("pt-BR").includes(q));
};

/** Category mappings: every local category with its Pluggy category, a searchable picker per row, remove, import. */
export const CategoryMappingsPage: FC<CategoryMappingsProps> = ({ csrfToken, query, onlyUnmapped, mappings, pluggyTree }) => {
  const tree = Array.isArray(pluggyTree) ? pluggyTree : [];
  const known = new Map(tree.map((c) => [c.id, c]));
  const rows = Array.isArray(mappings)
    ? treeOrder(mappings).filter(
        (row) =>
          (!onlyUnmapped || row.pluggy_category_id === null) &&
          matchesQuery(query, row.category_name, row.parentName, row.pluggy_category_name, row.pluggy_category_id),
      )
    : [];
  const total = Array.isArray(mappings) ? mappings.length : 0;
  const unmapped = Array.isArray(mappings) ? mappings.filter((m) => m.pluggy_category_id === null).length : 0;
  const treeRows = tree.filter((c) => matchesQuery(query, c.id, c.description, c.description_translated, c.parent_description));
  return (
    <>
      <p class="lead">
        A transaction's category change reaches Pluggy only when its local category maps to one of Pluggy's categories.
        {Array.isArray(mappings) ? ` ${total} categories, ${unmapped} not mapped.` : null}
      </p>
      {!Array.isArray(mappings) ? <ApiErrorNotice error={mappings} context="Loading the category mappings" /> : null}
      {!Array.isArray(pluggyTree) ? <ApiErrorNotice error={pluggyTree} context="Loading Pluggy's categories" /> : null}
      <div class="grid">
        <section class="card" aria-labelledby="filter-title">
          <h2 id="filter-title">Find</h2>
          <form method="get" action="/admin/category-mappings" class="form-row" role="search">
            <div class="field field--grow">
              <label for="q">Search categories</label>
              <input type="search" id="q" name="q" value={query} placeholder="name or Pluggy id" />
            </div>
            <div class="field">
              <label for="show">Show</label>
              <select id="show" name="show">
                <option value="all" selected={!onlyUnmapped}>
                  all categories
                </option>
                <option value="unmapped" selected={onlyUnmapped}>
                  not mapped only
                </option>
              </select>
            </div>
            <button type="submit" class="secondary">
              Filter
            </button>
          </form>
        </section>
        <section class="card" aria-labelledby="import-title">
          <h2 id="import-title">Import Pluggy's tree</h2>
          <p class="muted">
            Creates a local category for each Pluggy category that no local category maps to yet, mapped 1:1. Existing
            categories and mappings are left alone.
          </p>
          <form method="post" action="/admin/category-mappings/import-pluggy">
            <CsrfField token={csrfToken} />
            <button type="submit" class="secondary">
              Import Pluggy's categories
            </button>
          </form>
        </section>
      </div>
      <PickerDatalist tree={tree} />
      <div class="table-wrap">
        <table class="cards">
          <caption>
            Local categories {query || onlyUnmapped ? `(${rows.length} shown)` : null}
          </caption>
          <thead>
            <tr>
              <th scope="col">Local category</th>
              <th scope="col">Pluggy category</th>
              <th scope="col">Mapped</th>
              <th scope="col">Set or change (type a name or id)</th>
              <th scope="col">
                <span class="visually-hidden">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <MappingRow row={row} csrfToken={csrfToken} query={query} known={known} />
            ))}
          </tbody>
        </table>
        {Array.isArray(mappings) && rows.length === 0 ? <p class="empty">No category matches.</p> : null}
      </div>
      <details class="card">
        <summary>Pluggy's category tree ({query ? `${treeRows.length} of ${tree.length}` : tree.length})</summary>
        <div class="table-wrap">
          <table class="cards">
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Category</th>
                <th scope="col">Portuguese</th>
              </tr>
            </thead>
            <tbody>
              {treeRows.map((c) => (
                <tr>
                  <td data-label="Id">
                    <code>{c.id}</code>
                  </td>
                  <th scope="row">{c.parent_description ? `${c.parent_description} › ${c.description}` : c.description}</th>
                  <td data-label="Portuguese">{c.description_translated ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </>
  );
};
