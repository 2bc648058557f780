import ReactMarkdown, { type Components, type UrlTransform } from "react-markdown";

// Reviewer-facing text comes from workflow authors and run data: render it as Markdown,
// never as HTML. Raw HTML stays text (react-markdown's default; no rehype-raw), images are
// dropped (a remote image is an exfiltration channel) and links go only to http(s)/mailto.
const SAFE_PROTOCOL = /^(https?:|mailto:)/i;

export const safeUrl: UrlTransform = (url) => {
  const u = url.trim();
  return SAFE_PROTOCOL.test(u) ? u : "";
};

const components: Components = {
  a: ({ href, children }) =>
    href ? (
      <a href={href} target="_blank" rel="noopener noreferrer">
        {children}
      </a>
    ) : (
      <span>{children}</span>
    ),
};

export function Markdown({ children, className }: { children: string; className?: string }) {
  return (
    <div className={className ? `markdown ${className}` : "markdown"}>
      <ReactMarkdown
        disallowedElements={["img"]}
        unwrapDisallowed={false}
        skipHtml={false}
        urlTransform={safeUrl}
        components={components}
      >
        {children}
      </ReactMarkdown>
    </div>
  );
}
