import Foundation
import XCTest

@testable import RSOEngine

/// A file we write reads correctly in Python with nothing but json + numpy (what a PyTorch or
/// numpy user without the safetensors package would do), and, where it is installed, with the
/// reference `safetensors` package (strict validation). Each test is skipped when its Python modules
/// are missing. $RSO_PYTHON picks the interpreter (default: python3 on PATH).
final class InteropCheckpointTests: XCTestCase {
    private static let python = ProcessInfo.processInfo.environment["RSO_PYTHON"] ?? "python3"

    /// Parses argv[1] with json + numpy and prints, per tensor in offset order:
    /// name dtype shape sum-as-float64 — then the metadata "trainer" value.
    private static let script = """
        import json, sys
        import numpy as np
        raw = open(sys.argv[1], 'rb').read()
        n = int.from_bytes(raw[:8], 'little')
        header = json.loads(raw[8:8 + n].decode('utf-8'))
        meta = header.pop('__metadata__', {})
        types = {'F32': '<f4', 'F64': '<f8', 'I32': '<i4', 'I64': '<i8', 'U64': '<u8', 'U8': 'u1'}
        for name, t in sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0]):
            b, e = t['data_offsets']
            a = np.frombuffer(raw[8 + n + b:8 + n + e], dtype=types[t['dtype']]).reshape(t['shape'])
            print(name, t['dtype'], list(a.shape), repr(float(a.astype(np.float64).sum())))
        print('trainer', meta['trainer'])
        """

    func testNumpyReadsWhatWeWrite() throws {
        guard let probe = try? runCommand([Self.python, "-c", "import numpy"]), probe.status == 0 else {
            throw XCTSkip("\(Self.python) with numpy not available")
        }
        let dir = try CheckpointFixtures.makeTempDirectory("interop")
        defer { CheckpointFixtures.remove(dir) }
        let path = CheckpointFixtures.path(dir, "interop.safetensors")

        // Values are multiples of 1/4 with small magnitude, so every sum is exact in float64 and
        // the comparison needs no tolerance.
        let weights = (0..<600).map { Float($0 % 37) * 0.25 - 4 }
        let expectedSum = weights.reduce(0.0) { $0 + Double($1) }
        var st = SafeTensors(metadata: ["trainer": #"{"step": 3}"#])
        st.add("conv.weight", floats: weights, shape: [10, 6, 10])
        st.add("steps", int32s: [1, -2, 30], shape: [3])
        st.add("rng", uint64s: [5, 6], shape: [2])
        st.add("lr", doubles: [0.125], shape: [])
        try st.write(atomicallyTo: path)

        let (status, output) = try runCommand([Self.python, "-c", Self.script, path])
        XCTAssertEqual(status, 0, output)
        let lines = output.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, [
            "conv.weight F32 [10, 6, 10] \(expectedSum)",
            "steps I32 [3] 29.0",
            "rng U64 [2] 11.0",
            "lr F64 [] 0.125",
            #"trainer {"step": 3}"#,
        ])
        // Swift's and Python's shortest round-trip spellings of a Double agree; check the number too.
        let pythonSum = try XCTUnwrap(lines.first?.split(separator: " ").last.flatMap { Double($0) })
        XCTAssertEqual(pythonSum, expectedSum)
    }

    /// The reference implementation (which rejects gaps, overlaps, misaligned headers and bad
    /// byte counts) loads every dtype and the metadata.
    func testReferenceSafetensorsPackageReadsWhatWeWrite() throws {
        guard let probe = try? runCommand([Self.python, "-c", "import safetensors.numpy"]), probe.status == 0 else {
            throw XCTSkip("\(Self.python) with the safetensors package not available")
        }
        let dir = try CheckpointFixtures.makeTempDirectory("interop")
        defer { CheckpointFixtures.remove(dir) }
        let path = CheckpointFixtures.path(dir, "reference.safetensors")
        try CheckpointFixtures.sample().write(atomicallyTo: path)

        let script = """
            import sys
            from safetensors import safe_open
            with safe_open(sys.argv[1], 'np') as f:
                print(sorted(f.metadata().items()))
                for k in f.keys():
                    a = f.get_tensor(k)
                    print(k, a.dtype, list(a.shape), a.tobytes().hex())
            """
        let (status, output) = try runCommand([Self.python, "-c", script, path])
        XCTAssertEqual(status, 0, output)
        let lines = output.split(separator: "\n").map(String.init)
        let sample = CheckpointFixtures.sample()
        XCTAssertEqual(lines.first, "[('format', 'rso-v1'), ('trainer', '{\"step\":12,\"lr\":0.5}')]")
        let numpyName: [SafeTensors.DType: String] = [
            .f32: "float32", .f64: "float64", .i32: "int32", .i64: "int64", .u64: "uint64", .u8: "uint8",
        ]
        // safe_open lists keys sorted by name.
        let expected = sample.tensors.sorted { $0.name < $1.name }.map { t in
            "\(t.name) \(numpyName[t.dtype]!) \(t.shape) " + t.bytes.map { String(format: "%02x", $0) }.joined()
        }
        XCTAssertEqual(Array(lines.dropFirst()), expected)
    }
}
