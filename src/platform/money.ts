/** Integer minor units → the contract's decimal string with two places ("-123.45"). */
export function formatMinor(minor: number): string {
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  const units = Math.trunc(abs / 100);
  const cents = abs % 100;
  return `${sign}${units}.${cents.toString().padStart(2, "0")}`;
}

/**
 * Pluggy's decimal amount (a JSON number) → integer minor units. Goes through the decimal string so
 * binary floating point never decides a cent (0.29 * 100 is 28.999999999999996).
 */
export function toMinor(amount: number): number {
  if (!Number.isFinite(amount)) throw new RangeError(`not a finite amount: ${amount}`);
  const [whole = "0", fraction = ""] = Math.abs(amount).toFixed(4).split(".");
  const cents = Number(whole) * 100 + Math.round(Number(`${fraction.slice(0, 2)}.${fraction.slice(2)}`));
  return amount < 0 ? -cents : cents;
}
