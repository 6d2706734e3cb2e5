/// The paper's networks (RSO, Tripathi & Singh 2020).
public enum NetworkZoo {
    public static let names = ["mnist6", "cifar-depth3", "cifar-depth5", "cifar-depth10"]

    /// nil when the name is unknown (callers list `names` in their error).
    public static func network(named name: String) -> NetworkSpec? {
        switch name {
        case "mnist6": return mnist6()
        case "cifar-depth3": return cifarDepth3()
        case "cifar-depth5": return cifarDepth5()
        case "cifar-depth10": return cifarDepth10()
        default: return nil
        }
    }

    /// The named network built for other input images (the CIFAR architectures on 1×28×28 images
    /// for `rso reproduce --scale smoke` without CIFAR-10); the name stays the same.
    public static func network(named name: String, input: ImageShape) -> NetworkSpec? {
        switch name {
        case "mnist6": return mnist6(input: input)
        case "cifar-depth3": return cifarDepth3(input: input)
        case "cifar-depth5": return cifarDepth5(input: input)
        case "cifar-depth10": return cifarDepth10(input: input)
        default: return nil
        }
    }

    /// Channels, height and width of a network's input images.
    public struct ImageShape: Sendable, Equatable {
        public var channels, height, width: Int
        public init(channels: Int, height: Int, width: Int) {
            self.channels = channels
            self.height = height
            self.width = width
        }
        public static let mnist = ImageShape(channels: 1, height: 28, width: 28)
        public static let cifar10 = ImageShape(channels: 3, height: 32, width: 32)
    }

    /// The dataset format a network's input shape expects.
    public static func datasetFormat(for net: NetworkSpec) -> DatasetFormat {
        net.inputChannels == 1 ? .idx : .cifar10
    }

    /// MNIST: 6 conv 3×3 16 ch, each BN+ReLU, 2×2 avg-pool after conv2 and conv4, global pool,
    /// FC 16→10. |W| = 11,824.
    public static func mnist6(input: ImageShape = .mnist) -> NetworkSpec {
        var b = NetworkBuilder(name: "mnist6", inputChannels: input.channels, height: input.height, width: input.width, classes: 10)
        b.convBN(16); b.convBN(16); b.avgPool2()
        b.convBN(16); b.convBN(16); b.avgPool2()
        b.convBN(16); b.convBN(16)
        b.globalAvgPool(); b.fc(10)
        return b.build()
    }

    /// CIFAR-10 Depth-3: conv1 3→16, conv2 16→32 at 32×32, avg-pool, global pool, FC 32→10.
    public static func cifarDepth3(input: ImageShape = .cifar10) -> NetworkSpec {
        var b = NetworkBuilder(name: "cifar-depth3", inputChannels: input.channels, height: input.height, width: input.width, classes: 10)
        b.convBN(16)
        b.convBN(32); b.avgPool2()
        b.globalAvgPool(); b.fc(10)
        return b.build()
    }

    /// CIFAR-10 Depth-5: conv1 3→16, conv2 16→16 (32×32), pool, conv3 16→32 (16×16), pool,
    /// conv4 32→32 (8×8), global pool, FC 32→10.
    public static func cifarDepth5(input: ImageShape = .cifar10) -> NetworkSpec {
        var b = NetworkBuilder(name: "cifar-depth5", inputChannels: input.channels, height: input.height, width: input.width, classes: 10)
        b.convBN(16)
        b.convBN(16); b.avgPool2()
        b.convBN(32); b.avgPool2()
        b.convBN(32)
        b.globalAvgPool(); b.fc(10)
        return b.build()
    }

    /// CIFAR-10 Depth-10: conv1 3→16; conv2 stage one basic block 16 (32×32); pool; conv3 stage one
    /// basic block 16→32 (16×16, zero-padded shortcut); pool; conv4 stage two basic blocks 32
    /// (8×8); global pool; FC 32→10. |W| = 56,048, F = 11,059,520 MACs/sample.
    public static func cifarDepth10(input: ImageShape = .cifar10) -> NetworkSpec {
        var b = NetworkBuilder(name: "cifar-depth10", inputChannels: input.channels, height: input.height, width: input.width, classes: 10)
        b.convBN(16)
        b.basicBlock(16); b.avgPool2()
        b.basicBlock(32); b.avgPool2()
        b.basicBlock(32); b.basicBlock(32)
        b.globalAvgPool(); b.fc(10)
        return b.build()
    }
}
