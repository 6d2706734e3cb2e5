import XCTest
@testable import RSOEngine

/// The experiment table: the issue's experiments, each with runs at every scale, the paper's
/// settings at paper scale, and smoke runs small enough for CI.
final class ExperimentTableTests: XCTestCase {
    func testTheIssuesExperimentsInOrder() {
        XCTAssertEqual(ExperimentTable.all.map(\.name),
                       ["mnist-accuracy", "sampling-levels", "cifar-depth", "update-schemes", "sigma-robustness",
                        "caching", "rso-vs-sgd"])
        for e in ExperimentTable.all {
            XCTAssertFalse(e.reference.isEmpty, e.name)
            XCTAssertFalse(e.claims.isEmpty, e.name)
        }
    }

    func testEveryScaleHasRunsWithUniqueNamesOnKnownNetworks() {
        for e in ExperimentTable.all {
            for scale in ReproduceScale.allCases {
                let runs = e.runs(scale)
                XCTAssertFalse(runs.isEmpty, "\(e.name) \(scale)")
                XCTAssertEqual(Set(runs.map(\.name)).count, runs.count, "\(e.name) \(scale): run names repeat")
                for r in runs {
                    XCTAssertNotNil(NetworkZoo.network(named: r.net), "\(e.name)/\(r.name)")
                    XCTAssertNoThrow(try r.rso?.validate(), "\(e.name)/\(r.name)")
                }
            }
            // A claim tied to a run names one that exists at every scale.
            for c in e.claims {
                if let run = c.run { XCTAssertTrue(e.runs(.paper).contains { $0.name == run }, "\(e.name): \(run)") }
            }
        }
    }

    /// Two blank 28×28 images: enough for a trainer to count its trials.
    private var tinyMNIST: Dataset {
        Dataset(name: "blank", count: 2, channels: 1, height: 28, width: 28,
                images: [Float](repeating: 0, count: 2 * 784), labels: [0, 1])
    }

    func testPaperScaleIsThePapersSetting() throws {
        let mnist = try XCTUnwrap(ExperimentTable.experiment(named: "mnist-accuracy")?.runs(.paper).first?.rso)
        XCTAssertEqual(mnist.batch, 5000)
        XCTAssertEqual(mnist.cycles, 50)
        XCTAssertEqual(mnist.net, "mnist6")
        // Sampling levels: equal step counts of 500K, enough cycles to reach them.
        let levels = try XCTUnwrap(ExperimentTable.experiment(named: "sampling-levels")?.runs(.paper))
        XCTAssertEqual(Set(levels.compactMap { $0.rso?.sampling }), Set(SamplingLevel.allCases))
        for r in levels {
            let o = try XCTUnwrap(r.rso)
            // Trials per cycle as the trainer counts them (12,026 slots or 11,824 weights).
            var counting = o  // the count does not depend on the batch
            counting.batch = 1
            counting.bnSamples = 1
            let trainer = try Trainer(options: counting, train: tinyMNIST, test: tinyMNIST, scheduler: SerialScheduler())
            XCTAssertEqual(r.trialLimit, 500_000)
            XCTAssertGreaterThanOrEqual(o.cycles * trainer.trialsPerCycle, 500_000, r.name)
            XCTAssertLessThan((o.cycles - 1) * trainer.trialsPerCycle, 500_000, r.name)
        }
        let sigma = try XCTUnwrap(ExperimentTable.experiment(named: "sigma-robustness")?.runs(.paper))
        XCTAssertEqual(sigma.compactMap { $0.rso?.sigmaScale }, [0.1, 0.3, 1, 3, 10])
        let sgd = try XCTUnwrap(ExperimentTable.experiment(named: "rso-vs-sgd")?.runs(.paper).first { $0.sgd != nil }?.sgd)
        XCTAssertEqual(sgd.batch, 5000)
        XCTAssertEqual(sgd.learningRate, 0.5)
        XCTAssertEqual(sgd.warmupSteps, 60)  // 5 epochs of 12 iterations
        XCTAssertEqual(sgd.steps, 600)
        let depths = try XCTUnwrap(ExperimentTable.experiment(named: "cifar-depth")?.runs(.paper))
        XCTAssertEqual(depths.map(\.net), ["cifar-depth3", "cifar-depth5", "cifar-depth10"])
        XCTAssertTrue(depths.allSatisfy { $0.rso?.batch == 5000 && $0.dataset == .cifar10 })
    }

    func testSmokeRunsAreTiny() {
        for e in ExperimentTable.all {
            for r in e.runs(.smoke) {
                XCTAssertLessThanOrEqual(r.trainSamples ?? .max, 512, "\(e.name)/\(r.name)")
                XCTAssertLessThanOrEqual(r.testSamples ?? .max, 256, "\(e.name)/\(r.name)")
                if let o = r.rso {
                    XCTAssertLessThanOrEqual(r.trialLimit ?? .max, 40, "\(e.name)/\(r.name)")
                    XCTAssertLessThanOrEqual(o.bnSamples, r.trainSamples ?? 0)
                }
                if let o = r.sgd { XCTAssertLessThanOrEqual(o.steps, 4, "\(e.name)/\(r.name)") }
            }
        }
    }
}
