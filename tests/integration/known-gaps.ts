/**
 * Checks the conformant fedify-ref is known to fail, with the reason. The verdicts are honest (the
 * checks are not bent to pass); listing them here keeps the integration tests green while saying
 * exactly where the reference falls short. Remove an entry once fedify-ref does the right thing.
 * @module
 */

/** Check id → why the conformant fedify-ref fails it. */
export const KNOWN_REFERENCE_GAPS: Readonly<Record<string, string>> = {
  "AS-01":
    "Fedify 2.3.6 parses inbox bodies as JSON-LD; without @context nothing expands and it answers " +
    "400 'Missing actor' instead of assuming the AS2 context (AS2 Core §2.1).",
  "PST-07":
    "fedify-ref stores received HTML as it arrived and its control API serves it unsanitised " +
    "(<script>, on* handlers and javascript: URLs survive); it sanitises only its own web pages.",
  "MED-09":
    "fedify-ref has no polls and does not render a Question's options as text: only the question shows.",
  "SIG-04b":
    "Fedify 2.3.6 trusts a standalone key document's `owner` (doesActorOwnKey checks key.ownerId) and " +
    "never confirms that the actor lists the key (GHSA-q9f8-5hc7-898f class).",
};
