/**
 * Dollars as the CLI, deny reasons and alerts print them: cents from $1 up ($12.50), four decimals below ($0.0225),
 * six under a hundredth of a cent ($0.000045), so a small spend does not read as $0.0000.
 */
export function formatUsd(usd: number): string {
  const size = Math.abs(usd);
  const decimals = size >= 1 ? 2 : size === 0 || size >= 0.0001 ? 4 : 6;
  return `${usd < 0 ? '-' : ''}$${size.toFixed(decimals)}`;
}
