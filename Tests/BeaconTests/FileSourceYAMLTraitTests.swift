// SPDX-License-Identifier: Apache-2.0

import Beacon
import Testing

/// What `FileSource` does with YAML with and without the package's `YAML` trait.
///
/// The default build has the trait. To check the build without it:
/// `swift test --disable-default-traits --scratch-path .build-no-yaml --filter FileSourceYAMLTraitTests`
/// (a separate scratch path keeps the default build's products).
@Suite("FileSource and the YAML trait")
struct FileSourceYAMLTraitTests {
    @Test("YAML files are read with the trait and refused with a clear error without it; JSON is read either way")
    func yamlFollowsTheTrait() async throws {
        let directory = try FileSourceTests.Directory()
        let json = try FileSource(path: try directory.write("s.json", #"{"db": {"main": "127.0.0.1:5432"}}"#))
        #expect(await json.get("/db/main")?.string == "127.0.0.1:5432")

        let path = try directory.write("s.yaml", "db:\n  main: 127.0.0.1:5432\n")
        #if YAML
        let yaml = try FileSource(path: path)
        #expect(await yaml.get("/db/main")?.string == "127.0.0.1:5432")
        #else
        let error = #expect(throws: BeaconError.self) { try FileSource(path: path) }
        #expect(error?.code == .unsupportedFormat)
        #expect(error?.file == path)
        #expect(error?.description.contains("YAML trait") == true)
        #endif
    }
}
