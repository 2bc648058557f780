export function StatusBadge({ status, testId }: { status: string | null | undefined; testId?: string }) {
  if (!status) return null;
  return (
    <span className={`badge status-${status}`} data-testid={testId}>
      {status}
    </span>
  );
}
