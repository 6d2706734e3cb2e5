import Foundation
import XCTest

@testable import RSOEngine

/// Writing then reading gives back every tensor bit for bit, in order, with the metadata; the
/// layout of a tiny file matches one computed by hand from the format description.
final class RoundTripCheckpointTests: XCTestCase {
    private var dirs: [String] = []
    override func tearDown() {
        dirs.forEach(CheckpointFixtures.remove)
        super.tearDown()
    }
    private func tempDir() throws -> String {
        let d = try CheckpointFixtures.makeTempDirectory()
        dirs.append(d)
        return d
    }

    // MARK: - Round trip

    func testEveryDTypeAndMetadataRoundTripThroughBytes() throws {
        let st = CheckpointFixtures.sample()
        XCTAssertEqual(Set(st.tensors.map(\.dtype)), Set(SafeTensors.DType.allCases), "sample covers every dtype")
        let back = try SafeTensors.parse(st.serialized(), file: "mem")
        XCTAssertEqual(back, st)
        XCTAssertEqual(back.tensors.map(\.name), st.tensors.map(\.name), "write order preserved")
        XCTAssertEqual(back.metadata, st.metadata)
    }

    func testEveryDTypeRoundTripsThroughFileWithTypedAccessors() throws {
        let path = CheckpointFixtures.path(try tempDir(), "run.safetensors")
        let st = CheckpointFixtures.sample()
        try st.write(atomicallyTo: path)
        let back = try SafeTensors.read(path: path)
        XCTAssertEqual(back, st)
        // Exact equality everywhere: nothing is converted, only copied (compare bit patterns so
        // -0.0 and extreme values count too).
        XCTAssertEqual(try back.floats("conv1.weight"), (0..<24).map { Float($0) * 0.25 - 3 })
        XCTAssertEqual(try back.floats("bn1.running_var").map(\.bitPattern),
                       [1, 2.5, Float.greatestFiniteMagnitude, -0.0].map(\.bitPattern))
        XCTAssertEqual(try back.doubles("trainer.loss_history").map(\.bitPattern), [0.1, 1e-300, -2.75].map(\.bitPattern))
        XCTAssertEqual(try back.int32s("trainer.perm"), [3, -1, Int32.max, Int32.min, 0, 7])
        XCTAssertEqual(try back.int64s("trainer.i64"), [Int64.min, 42])
        XCTAssertEqual(try back.uint64s("trainer.rng"), [0, 1, UInt64.max, 0x0123_4567_89AB_CDEF])
        XCTAssertEqual(try back.uint8s("mask"), [0, 255, 7])
        XCTAssertEqual(try back.floats("scalar"), [9.5])
        XCTAssertEqual(back.tensor("scalar")?.shape, [])
        XCTAssertEqual(try back.floats("empty"), [])
        XCTAssertEqual(back.tensor("empty")?.shape, [0, 5])
        XCTAssertEqual(back.tensor("trainer.perm")?.shape, [2, 3])
        XCTAssertEqual(back.metadata["trainer"], #"{"step":12,"lr":0.5}"#)
    }

    func testNaNPayloadAndUnicodeNamesSurvive() throws {
        var st = SafeTensors(metadata: ["note": "Grüße / \"quoted\" \\ \n tab\t ✓"])
        let nan = Float(bitPattern: 0x7FC0_1234)
        st.add("layer/ß.weight", floats: [nan, .infinity, -.infinity], shape: [3])
        let back = try SafeTensors.parse(st.serialized(), file: "mem")
        XCTAssertEqual(try back.floats("layer/ß.weight").map(\.bitPattern), [nan, .infinity, -.infinity].map(\.bitPattern))
        XCTAssertEqual(back.metadata, st.metadata)
    }

    func testOrderIsWriteOrderNotNameOrder() throws {
        var st = SafeTensors()
        for name in ["z", "a", "m", "b"] { st.add(name, floats: [1, 2], shape: [2]) }
        XCTAssertEqual(try SafeTensors.parse(st.serialized(), file: "mem").tensors.map(\.name), ["z", "a", "m", "b"])
    }

    /// Same content, same bytes: metadata inserted in another order (and in another process, whose
    /// hash seed differs) serialises identically, because metadata keys are sorted.
    func testSerializationIsDeterministic() throws {
        var a = SafeTensors(metadata: ["b": "2", "a": "1", "c": "3"])
        var b = SafeTensors()
        for (k, v) in [("c", "3"), ("a", "1"), ("b", "2")] { b.metadata[k] = v }
        for i in 0..<20 {
            a.add("t\(i)", int32s: [Int32(i)], shape: [1])
            b.add("t\(i)", int32s: [Int32(i)], shape: [1])
        }
        XCTAssertEqual(a.serialized(), b.serialized())
        let header = String(decoding: a.headerJSON(), as: UTF8.self)
        XCTAssertTrue(header.hasPrefix(#"{"__metadata__":{"a":"1","b":"2","c":"3"},"t0":"#), header)
    }

    func testNamesNeedingJSONEscapesRoundTrip() throws {
        var st = SafeTensors(metadata: ["quote\"key": "back\\slash", "ctl": "\u{1}\u{1F}"])
        for name in ["a\"b", "c\\d", "e\nf", "g/h", " ", ""] { st.add(name, floats: [1], shape: [1]) }
        let back = try SafeTensors.parse(st.serialized(), file: "mem")
        XCTAssertEqual(back, st)
    }

    func testEmptyFileHasEmptyObjectHeader() throws {
        let bytes = SafeTensors().serialized()
        XCTAssertEqual(bytes, CheckpointFixtures.littleEndian(8) + Array("{}      ".utf8))
        XCTAssertEqual(try SafeTensors.parse(bytes, file: "mem"), SafeTensors())
    }

    /// 4 MB of floats: exercises the memcpy paths on a checkpoint-sized tensor (no timing asserted).
    func testMultiMegabyteTensorRoundTrips() throws {
        let n = 1 << 20
        let values = (0..<n).map { Float($0 % 1000) * 0.001 }
        var st = SafeTensors()
        st.add("big", floats: values, shape: [1024, 1024])
        st.add("after", int32s: [5], shape: [1])
        let path = CheckpointFixtures.path(try tempDir(), "big.safetensors")
        try st.write(atomicallyTo: path)
        let back = try SafeTensors.read(path: path)
        XCTAssertEqual(try back.floats("big"), values)
        XCTAssertEqual(try back.int32s("after"), [5])
    }

    // MARK: - Byte layout

    /// a: F32 [2] = [1, -2]; b: I32 [3] = [1, -1, 258]; metadata {"k": "v"}.
    /// Header: compact JSON, metadata first, then tensors in write order, 133 bytes padded with 3 spaces to 136 (a multiple of 8).
    /// Buffer: a at [0, 8), b at [8, 20). File: 8 + 136 + 20 = 164 bytes.
    func testTinyFileMatchesHandComputedLayout() throws {
        var st = SafeTensors(metadata: ["k": "v"])
        st.add("a", floats: [1, -2], shape: [2])
        st.add("b", int32s: [1, -1, 258], shape: [3])
        let bytes = st.serialized()

        XCTAssertEqual(bytes.count, 164)
        XCTAssertEqual(Array(bytes[0..<8]), [136, 0, 0, 0, 0, 0, 0, 0], "header length, little-endian u64")

        let header = String(decoding: bytes[8..<144], as: UTF8.self)
        let json = #"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
            + #""b":{"dtype":"I32","shape":[3],"data_offsets":[8,20]}}"#
        XCTAssertEqual(json.utf8.count, 133)
        XCTAssertEqual(header, json + "   ")

        // Independent of key order and spacing: the parsed JSON says the same.
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes[8..<144])) as? [String: Any])
        XCTAssertEqual(object["__metadata__"] as? [String: String], ["k": "v"])
        let a = try XCTUnwrap(object["a"] as? [String: Any])
        XCTAssertEqual(a["dtype"] as? String, "F32")
        XCTAssertEqual(a["shape"] as? [Int], [2])
        XCTAssertEqual(a["data_offsets"] as? [Int], [0, 8])
        let b = try XCTUnwrap(object["b"] as? [String: Any])
        XCTAssertEqual(b["dtype"] as? String, "I32")
        XCTAssertEqual(b["shape"] as? [Int], [3])
        XCTAssertEqual(b["data_offsets"] as? [Int], [8, 20])

        // Data: 1.0f = 0x3F800000, -2.0f = 0xC0000000, then 1, -1, 258 as little-endian Int32.
        XCTAssertEqual(Array(bytes[144..<152]), [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0])
        XCTAssertEqual(Array(bytes[152..<164]), [1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 2, 1, 0, 0])
    }

    /// Bytes written by the reference implementation (safetensors 0.8.0, Python:
    /// `save({"w": f32 [[1.5, -2]], "n": i64 [7, -1], "e": f32 zeros(0)}, metadata={"k": "v"})`):
    /// we read them back in its order (it sorts by alignment, then name), and writing the same
    /// tensors in that order reproduces the file byte for byte.
    func testMatchesReferenceWriterByteForByte() throws {
        let header = #"{"__metadata__":{"k":"v"},"n":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"#
            + #""e":{"dtype":"F32","shape":[0],"data_offsets":[16,16]},"#
            + #""w":{"dtype":"F32","shape":[1,2],"data_offsets":[16,24]}}"#
        let padded = header + String(repeating: " ", count: 192 - header.utf8.count)
        let data: [UInt8] = [7, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 8) + [0, 0, 0xC0, 0x3F, 0, 0, 0, 0xC0]
        let reference = CheckpointFixtures.littleEndian(192) + Array(padded.utf8) + data
        XCTAssertEqual(reference.count, 224)

        let st = try SafeTensors.parse(reference, file: "reference")
        XCTAssertEqual(st.tensors.map(\.name), ["n", "e", "w"])
        XCTAssertEqual(try st.int64s("n"), [7, -1])
        XCTAssertEqual(try st.floats("e"), [])
        XCTAssertEqual(try st.floats("w"), [1.5, -2])
        XCTAssertEqual(st.tensor("w")?.shape, [1, 2])
        XCTAssertEqual(st.metadata, ["k": "v"])

        var ours = SafeTensors(metadata: ["k": "v"])
        ours.add("n", int64s: [7, -1], shape: [2])
        ours.add("e", floats: [], shape: [0])
        ours.add("w", floats: [1.5, -2], shape: [1, 2])
        XCTAssertEqual(ours.serialized(), reference)
    }

    /// A file written by someone else: unpadded header, spaces inside the JSON, keys in another
    /// order, an extra field, no metadata.
    func testReadsForeignSpellingOfHeader() throws {
        let header = "{ \"y\" : {\"shape\": [1], \"dtype\": \"F64\", \"data_offsets\": [4, 12], \"extra\": true},\n"
            + "  \"x\": {\"dtype\": \"U8\", \"shape\": [2, 2], \"data_offsets\": [0, 4]} }"
        let data: [UInt8] = [1, 2, 3, 4] + SafeTensors.pack([0.5 as Double])
        let st = try SafeTensors.parse(CheckpointFixtures.file(header: header, data: data), file: "foreign")
        XCTAssertEqual(st.tensors.map(\.name), ["x", "y"], "order from offsets")
        XCTAssertEqual(try st.uint8s("x"), [1, 2, 3, 4])
        XCTAssertEqual(try st.doubles("y"), [0.5])
        XCTAssertEqual(st.metadata, [:])
    }

    // MARK: - Typed accessors

    func testTypedAccessorErrorsNameFileTensorAndDTypes() throws {
        let path = CheckpointFixtures.path(try tempDir(), "acc.safetensors")
        try CheckpointFixtures.sample().write(atomicallyTo: path)
        let st = try SafeTensors.read(path: path)
        assertCheckpointError(file: path, containing: ["no tensor named 'fc.bias'", "expected F32", "conv1.weight"]) {
            try st.floats("fc.bias")
        }
        assertCheckpointError(file: path, containing: ["'trainer.perm' is I32", "expected F32"]) {
            try st.floats("trainer.perm")
        }
        assertCheckpointError(file: path, containing: ["'conv1.weight' is F32", "expected U64"]) {
            try st.uint64s("conv1.weight")
        }
        assertCheckpointError(file: path, containing: ["expected F64"]) { try st.doubles("trainer.rng") }
        assertCheckpointError(file: path, containing: ["expected I32"]) { try st.int32s("mask") }
        XCTAssertNil(st.tensor("nope"))
    }
}
