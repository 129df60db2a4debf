using System.Diagnostics;
using CrossDistill.Engine;
using CrossDistill.Engine.Optim;
using CrossDistill.Models;

namespace CrossDistill.Bench.Suites;

/// <summary>
/// One training step of a zoo model: forward, cross-entropy, backward and an SGD update, on a fixed
/// random batch. Reports images per second and the peak of the engine's tensor memory during the timed steps.
/// </summary>
public sealed class TrainStepSuite : IBenchSuite
{
    public string Name => "train-step";

    public string Description => "Training step (forward + backward + SGD momentum 0.9) img/s and peak tensor MiB: ResNet-18 (CIFAR), MobileNetV2, ViT-Tiny (patch 4), batch 64, 32×32, 100 classes";

    public sealed record TrainStepCase(string Name, string Model, int Batch, int ImageSize, int Classes)
    {
        /// <summary>"NxCxHxW,cCLASSES"; pytorch_bench.py formats it the same way.</summary>
        public string Shape => $"{Batch}x3x{ImageSize}x{ImageSize},c{Classes}";
    }

    public sealed record TrainStepCases(int WarmupSteps, int TimedSteps, IReadOnlyList<TrainStepCase> Cases);

    public static TrainStepCases Settings => CaseFile.Load<TrainStepCases>("train-step.json");

    public IReadOnlyList<string> CaseNames => Settings.Cases.Select(c => c.Name).ToArray();

    public IEnumerable<BenchResult> Run(BenchOptions options)
    {
        var settings = Settings;
        int warmup = options.Quick ? 1 : settings.WarmupSteps;
        int timed = options.Quick ? 2 : settings.TimedSteps;
        foreach (var trainCase in settings.Cases.Where(c => options.Includes(c.Name)))
        {
            var (imagesPerSecond, peakBytes) = Measure(trainCase, warmup, timed, options.MemorySites);
            yield return new BenchResult(Name, trainCase.Name, trainCase.Shape, "throughput", imagesPerSecond, "img/s");
            // The engine's native tensor storage only (MemoryPool); managed heap and runtime are not included.
            yield return new BenchResult(Name, trainCase.Name, trainCase.Shape, "peak_memory", peakBytes / (1024.0 * 1024.0), "MiB");
        }
    }

    private static (double ImagesPerSecond, long PeakBytes) Measure(TrainStepCase c, int warmupSteps, int timedSteps, bool memorySites)
    {
        Torch.ManualSeed(0);
        using var model = ModelZoo.Create(c.Model, new ModelConfig { NumClasses = c.Classes, ImageSize = c.ImageSize });
        model.Train();
        using var optimizer = new SGD(model.Parameters(), lr: 0.01, momentum: 0.9);
        using var images = Torch.Randn(new[] { c.Batch, 3, c.ImageSize, c.ImageSize });
        using var labels = Torch.RandInt(0, c.Classes, new[] { c.Batch });

        void Step()
        {
            optimizer.ZeroGrad();
            using (DisposeScope.Enter())
            {
                var loss = F.CrossEntropy(model.Forward(images), labels);
                loss.Backward();
                optimizer.Step();
            }
        }

        // Warm-up also creates the momentum buffers, so the timed steps see the steady-state memory.
        for (int i = 0; i < warmupSteps; i++) Step();
        MemoryPool.ResetPeak();
        AllocationSites.Enabled = memorySites;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < timedSteps; i++) Step();
        double seconds = clock.Elapsed.TotalSeconds;
        long peak = MemoryPool.PeakBytesInUse;
        if (memorySites)
        {
            AllocationSites.Enabled = false;
            Console.Error.WriteLine($"{c.Name}: live tensor memory at the peak ({peak / 1048576.0:F1} MiB), by allocating op");
            Console.Error.Write(AllocationSites.Format(AllocationSites.AtPeak, top: 40));
        }
        optimizer.ZeroGrad();
        return (c.Batch * timedSteps / seconds, peak);
    }
}
