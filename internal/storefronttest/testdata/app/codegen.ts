// GraphQL Code Generator's client preset, from the schema the test server
// serves (introspection), into src/gql (not committed: made each run); the
// persisted-documents manifest is the trusted-documents mode's input.
import type { CodegenConfig } from "@graphql-codegen/cli";
import type { Types } from "@graphql-codegen/plugin-helpers";
import { addTypenameToDocument } from "@apollo/client/utilities/index.js";

// Apollo adds __typename to every selection but the operation's root
// before it sends a document; the manifest must hold what it sends (and
// its cache needs __typename to match fragments), so the documents are
// transformed by Apollo's own function.
const asApolloSends: Types.DocumentTransformObject = {
  transform: ({ documents }) =>
    documents.map((d) => ({ ...d, document: d.document && addTypenameToDocument(d.document) })),
};

const fixtures = JSON.parse(process.env.STOREFRONT_FIXTURES ?? "{}");

const config: CodegenConfig = {
  schema: `${fixtures.url}/graphql`,
  documents: ["src/**/*.ts", "!src/gql/**"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      // Fragments unmasked: the journey reads the cart through its fragment.
      presetConfig: { persistedDocuments: true, fragmentMasking: false },
      documentTransforms: [asApolloSends],
      config: {
        // ESM: the generated imports carry their .js extensions.
        importExtension: ".js",
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: {
          ID: "string",
          Money: "string",
          Time: "string",
          Cursor: "string",
          Upload: "File",
        },
      },
    },
  },
};
export default config;
