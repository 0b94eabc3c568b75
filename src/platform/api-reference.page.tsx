import type { FC } from "hono/jsx";

/*
 * A self-contained API reference rendered on the server from the OpenAPI document: no scripts, fonts or
 * CDN, so /docs works offline and behind strict networks. Swagger UI (a pinned version from a CDN,
 * checked by Subresource Integrity) stays available at /docs/swagger for trying requests interactively.
 */

type Json = Record<string, unknown>;

interface Operation {
  method: string;
  path: string;
  op: Json;
}

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

const str = (value: unknown): string => (typeof value === "string" ? value : "");
const obj = (value: unknown): Json => (value && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {});
const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

function schemaSummary(schema: Json, components: Json): string {
  const ref = str(schema["$ref"]);
  if (ref) return ref.split("/").at(-1) ?? ref;
  if (schema["enum"]) return arr(schema["enum"]).map(String).join(" | ");
  const anyOf = arr(schema["anyOf"] ?? schema["oneOf"]);
  if (anyOf.length > 0) return anyOf.map((s) => schemaSummary(obj(s), components)).join(" | ");
  const type = schema["type"];
  if (type === "array") return `${schemaSummary(obj(schema["items"]), components)}[]`;
  if (Array.isArray(type)) return type.join(" | ");
  return str(type) || "object";
}

function operations(doc: Json): Map<string, Operation[]> {
  const byTag = new Map<string, Operation[]>();
  for (const [path, item] of Object.entries(obj(doc["paths"]))) {
    for (const method of METHODS) {
      const op = obj(obj(item)[method]);
      if (Object.keys(op).length === 0) continue;
      const tag = str(arr(op["tags"])[0]) || "Other";
      byTag.set(tag, [...(byTag.get(tag) ?? []), { method, path, op }]);
    }
  }
  return byTag;
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#fff;--line:#d0d7de;--code:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;--line:#30363d;--code:#161b22}}
body{font:15px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1000px;padding:1rem}
h1{margin:.2rem 0}h2{border-bottom:1px solid var(--line);padding-bottom:.2rem;margin-top:2rem}
details{border:1px solid var(--line);border-radius:6px;margin:.4rem 0;padding:.4rem .7rem}
summary{cursor:pointer}code,pre{background:var(--code);border-radius:4px;padding:.1rem .3rem;font-size:13px}
pre{padding:.6rem;overflow:auto}.m{display:inline-block;min-width:4.2rem;font-weight:700;font-family:monospace}
.get{color:#1a7f37}.post{color:#0969da}.put,.patch{color:#9a6700}.delete{color:#cf222e}
table{border-collapse:collapse;width:100%;margin:.4rem 0}th,td{border:1px solid var(--line);padding:.25rem .45rem;text-align:left;vertical-align:top}
p.muted{color:var(--muted)}a{color:inherit}
`;

/** The /docs page. */
export const ApiReferencePage: FC<{ doc: Json }> = ({ doc }) => {
  const info = obj(doc["info"]);
  const components = obj(doc["components"]);
  const groups = operations(doc);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{str(info["title"])} — API reference</title>
        <style>{STYLE}</style>
      </head>
      <body>
        <header>
          <h1>{str(info["title"])}</h1>
          <p class="muted">
            OpenAPI {str(doc["openapi"])} · version {str(info["version"])} · machine-readable: <a href="/openapi.json">/openapi.json</a> · interactive
            (loads Swagger UI from a CDN): <a href="/docs/swagger">/docs/swagger</a>
          </p>
          <p>{str(info["description"])}</p>
          <p class="muted">
            User routes need <code>Authorization: Bearer &lt;JWT&gt;</code>; admin routes need a JWT with <code>"role": "admin"</code>. Errors
            are <code>{'{"error": {"code", "message", "details"?, "request_id"}}'}</code>.
          </p>
        </header>
        <main>
          {[...groups.entries()].map(([tag, ops]) => (
            <section>
              <h2>{tag}</h2>
              {ops.map(({ method, path, op }) => {
                const params = arr(op["parameters"]).map(obj);
                const body = obj(obj(obj(obj(op["requestBody"])["content"])["application/json"])["schema"]);
                return (
                  <details>
                    <summary>
                      <span class={`m ${method}`}>{method.toUpperCase()}</span> <code>{path}</code> — {str(op["summary"])}
                    </summary>
                    {op["description"] ? <p>{str(op["description"])}</p> : null}
                    {params.length > 0 ? (
                      <table>
                        <thead>
                          <tr>
                            <th scope="col">parameter</th>
                            <th scope="col">in</th>
                            <th scope="col">type</th>
                            <th scope="col">required</th>
                            <th scope="col">description</th>
                          </tr>
                        </thead>
                        <tbody>
                          {params.map((p) => (
                            <tr>
                              <td>
                                <code>{str(p["name"])}</code>
                              </td>
                              <td>{str(p["in"])}</td>
                              <td>{schemaSummary(obj(p["schema"]), components)}</td>
                              <td>{p["required"] ? "yes" : "no"}</td>
                              <td>{str(p["description"]) || str(obj(p["schema"])["description"])}</td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    ) : null}
                    {Object.keys(body).length > 0 ? (
                      <>
                        <p>JSON body:</p>
                        <pre>{JSON.stringify(body, null, 2)}</pre>
                      </>
                    ) : null}
                    <table>
                      <thead>
                        <tr>
                          <th scope="col">status</th>
                          <th scope="col">meaning</th>
                        </tr>
                      </thead>
                      <tbody>
                        {Object.entries(obj(op["responses"])).map(([status, response]) => (
                          <tr>
                            <td>{status}</td>
                            <td>{str(obj(response)["description"])}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </details>
                );
              })}
            </section>
          ))}
          <section>
            <h2>Schemas</h2>
            {Object.entries(obj(components["schemas"])).map(([name, schema]) => (
              <details>
                <summary>
                  <code>{name}</code>
                </summary>
                <pre>{JSON.stringify(schema, null, 2)}</pre>
              </details>
            ))}
          </section>
        </main>
      </body>
    </html>
  );
};

/** The page as an HTML string (the component is synchronous, so rendering is too). */
export function renderApiReference(doc: Json): string {
  return `<!doctype html>${String(<ApiReferencePage doc={doc} />)}`;
}
