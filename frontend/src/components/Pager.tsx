export function Pager({
  page,
  hasPrev,
  hasNext,
  onPage,
}: {
  page: number;
  hasPrev: boolean;
  hasNext: boolean;
  onPage: (p: number) => void;
}) {
  if (!hasPrev && !hasNext) return null;
  return (
    <nav className="pager" aria-label="Pagination">
      <button type="button" className="btn small" disabled={!hasPrev} onClick={() => onPage(page - 1)}>
        Previous page
      </button>
      <span>Page {page}</span>
      <button type="button" className="btn small" disabled={!hasNext} onClick={() => onPage(page + 1)}>
        Next page
      </button>
    </nav>
  );
}
