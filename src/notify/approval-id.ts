/** The shape of an approval id (`apr_<32 hex>`, see ApprovalRecord.id); anything else arriving from outside is refused. */
export const APPROVAL_ID_PATTERN = /^apr_[0-9a-f]{32}$/;

export function isApprovalId(value: unknown): value is string {
  return typeof value === 'string' && APPROVAL_ID_PATTERN.test(value);
}
