// swift-tools-version:6.1
// Kernel benchmarks on ordo-one/benchmark (package-benchmark), kept as a nested package so the root
// package's `swift build` / `swift test` never resolve or build it.
//
//   cd Benchmarks && swift package benchmark                       # run every suite
//   swift package benchmark --filter "mnist6.*direct.*"            # a subset
//   swift package benchmark baseline update main; … baseline compare main   # across commits
//
// The MallocInterposer trait alone (not the package's default RuntimeInterposer, whose package is
// not available here); see the machine notes.
import PackageDescription

let package = Package(
    name: "rso-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(name: "rso-engine", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "KernelBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RSOEngine", package: "rso-engine"),
            ],
            path: "Benchmarks/KernelBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v5)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
