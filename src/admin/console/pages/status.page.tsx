import type { Context } from "hono";
import type { ConsoleEnv } from "../console.env.ts";
import { renderPage } from "../console-render.tsx";

/** HTML 404 for an unknown console path (the API's JSON 404 would be useless in a browser). */
export function renderNotFound(c: Context<ConsoleEnv>): Response | Promise<Response> {
  return renderPage(
    c,
    { title: "Page not found", status: 404 },
    <div class="card card--narrow">
      <p>
        There is no console page at <code>{new URL(c.req.url).pathname}</code>. <a href="/admin">Back to the overview</a>
      </p>
    </div>,
  );
}

/** HTML 500: no details on the page, only the request id the error was logged with. */
export function renderServerError(c: Context<ConsoleEnv>): Response | Promise<Response> {
  return renderPage(
    c,
    { title: "Something went wrong", status: 500, flash: null },
    <div class="card card--narrow">
      <p>The page could not be rendered. The error was logged with the request id shown below.</p>
      <p>
        <a href="/admin">Back to the overview</a>
      </p>
    </div>,
  );
}
