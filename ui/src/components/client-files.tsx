// Other clients' files (podman's auth.json, Helm's registry config, extra Docker configs) that the
// last refresh could not write: Docker itself stays logged in, these clients' logins run out with
// their last token. A standing note, not an alert: it answers nothing the user just did.
import type { ClientFileView } from "../bindings";

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export function ClientFilesNote({ files }: { files: ClientFileView[] }) {
  if (files.length === 0) return null;
  return (
    <section class="notice client-files" aria-labelledby="client-files-title">
      <h2 id="client-files-title">{files.length === 1 ? "A client's file could not be updated" : `${files.length} clients' files could not be updated`}</h2>
      <p>Docker is logged in; these files were left as they were, so their clients stay logged in only until their last token runs out.</p>
      <ul>
        {files.map((f) => (
          <li key={f.file} data-client-file={f.file}>
            <p class="client-file-name">
              {capitalised(f.what)} <code>{f.file}</code>
            </p>
            <p class="error-message">{f.message}</p>
            {f.hint && <p class="error-hint">{f.hint}</p>}
          </li>
        ))}
      </ul>
    </section>
  );
}
