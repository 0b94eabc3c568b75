/** Tiny DOM helpers: text always goes through textContent, never HTML. */

type Props = Record<string, string | ((event: Event) => void)> & { text?: string };

export function el(tag: string, props: Props = {}, children: ReadonlyArray<Node | null> = []): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "text" && typeof value === "string") node.textContent = value;
    else if (typeof value === "function") node.addEventListener(name.replace(/^on/, ""), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

export function byId(id: string): HTMLElement {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from index.html`);
  return node;
}

/** "-23.45" + "BRL" → "-R$ 23,45" (the API's amounts are decimal strings: no float arithmetic here). */
export function formatMoney(amount: string, currency: string | null): string {
  const [units = "0", cents = "00"] = amount.replace("-", "").split(".");
  const grouped = units.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  const symbol = currency === "BRL" || currency === null ? "R$" : currency;
  return `${amount.startsWith("-") ? "-" : ""}${symbol} ${grouped},${cents}`;
}
