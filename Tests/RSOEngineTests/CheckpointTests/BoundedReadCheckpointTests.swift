import Foundation
import XCTest

@testable import RSOEngine

/// Checkpoint reads are bounded and read regular files only.
final class BoundedReadCheckpointTests: XCTestCase {
    private var dir = ""
    override func setUpWithError() throws {
        dir = try DataFixtures.makeTempDirectory("ckpt-bounded")
    }
    override func tearDown() {
        DataFixtures.remove(dir)
        super.tearDown()
    }

    func testCheckpointLargerThanTheLimitIsRefused() throws {
        var st = SafeTensors()
        st.add("w", floats: [1, 2, 3], shape: [3])
        let path = DataFixtures.path(dir, "small.safetensors")
        try st.write(atomicallyTo: path)
        let size = st.serialized().count
        XCTAssertEqual(try SafeTensors.read(path: path, maxBytes: size), st)
        assertCheckpointError(file: path, containing: ["file is larger than \(size - 1) bytes, the most a checkpoint may have"]) {
            try SafeTensors.read(path: path, maxBytes: size - 1)
        }
    }

    func testCheckpointThatIsNotARegularFileIsNamedForWhatItIs() throws {
        for kind in DataFixtures.Irregular.allCases {
            let path = DataFixtures.path(dir, "ckpt-\(kind).safetensors")
            try kind.make(AtomicFile.lastComponent(of: path), in: dir)
            assertCheckpointError(file: path, containing: [kind.phrase, "expected a safetensors checkpoint"]) {
                try SafeTensors.read(path: path)
            }
        }
    }
}
