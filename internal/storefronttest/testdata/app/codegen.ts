// GraphQL Code Generator's client preset, from the schema the test server
// serves (introspection), into src/gql (not committed: made each run); the
// persisted-documents manifest is the trusted-documents mode's input.
import type { CodegenConfig } from "@graphql-codegen/cli";

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
