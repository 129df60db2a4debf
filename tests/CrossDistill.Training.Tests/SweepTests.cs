using CrossDistill.Training.Config;
using CrossDistill.Training.Distillers;
using CrossDistill.Training.Runs;
using CrossDistill.Training.Sweeps;
using CrossDistill.Training.Tests.Support;

namespace CrossDistill.Training.Tests;

public class SweepTests
{
    private const string Teacher = """
        name: t
        model: { name: tiny_cnn, options: { width: 8 } }
        dataset: { name: shapes, image_size: 32, train_subset: 64, test_subset: 64, options: { train_size: 128, test_size: 64 } }
        method: { name: vanilla }
        optimizer: { name: sgd, lr: 0.05 }
        schedule: { name: constant }
        train: { epochs: 1, batch_size: 32 }
        """;

    private const string Student = """
        name: s
        model: { name: tiny_cnn, options: { width: 4 } }
        dataset: { name: shapes, image_size: 32, train_subset: 64, test_subset: 64, options: { train_size: 128, test_size: 64 } }
        method: { name: vanilla }
        optimizer: { name: sgd, lr: 0.05 }
        schedule: { name: constant }
        train: { epochs: 1, batch_size: 32 }
        """;

    [Fact]
    public void RunsTheGridTabulatesAndSkipsFinishedRunsWhenRunAgain()
    {
        WithSweep("""
            seeds: [0, 1]
            teachers: [{ name: cnn, config: teacher.yaml }]
            students: [{ name: small }]
            methods: [{ name: vanilla }, { name: kd, set: ["method.params.temperature=2"] }]
            """, sweep =>
        {
            var first = sweep.Run();
            Assert.Equal(4, first.Count); // 2 methods × 2 seeds (teachers are not rows)
            Assert.Equal(new[] { "small_vanilla_s0", "small_kd_from_cnn_s0", "small_vanilla_s1", "small_kd_from_cnn_s1" }, first.Select(r => r.Run));
            var md = File.ReadAllText(Path.Combine(sweep.Root, "results.md"));
            Assert.Contains("| small | cnn | kd |", md);
            Assert.Contains("| small | - | vanilla |", md);
            Assert.Equal(5, File.ReadAllLines(Path.Combine(sweep.Root, "results.csv")).Length);

            // A second call finds every summary.json and trains nothing.
            var before = Directory.GetFiles(sweep.Root, "*.safetensors", SearchOption.AllDirectories).Select(File.GetLastWriteTimeUtc).ToArray();
            var second = sweep.Run();
            Assert.Equal(first, second);
            Assert.Equal(before, Directory.GetFiles(sweep.Root, "*.safetensors", SearchOption.AllDirectories).Select(File.GetLastWriteTimeUtc).ToArray());
        });
    }

    [Fact]
    public void ASharedTeacherIsTrainedOnceAndLabelledEntriesRunVariantsOfAMethod()
    {
        WithSweep("""
            seeds: [3, 4]
            teachers: [{ name: cnn, config: teacher.yaml, shared: true }]
            students: [{ name: small }]
            methods:
              - { name: kd_t2, method: kd, set: ["method.params.temperature=2"] }
              - { name: kd_t8, method: kd, set: ["method.params.temperature=8"] }
            """, sweep =>
        {
            var results = sweep.Run();

            Assert.Equal(new[] { "teacher_cnn" }, Directory.GetDirectories(sweep.Root, "teacher_*").Select(Path.GetFileName));
            Assert.Equal(new[] { "small_kd_t2_from_cnn_s3", "small_kd_t8_from_cnn_s3", "small_kd_t2_from_cnn_s4", "small_kd_t8_from_cnn_s4" }, results.Select(r => r.Run));
            var resolved = File.ReadAllText(Path.Combine(sweep.Root, "small_kd_t8_from_cnn_s4", "config.resolved.yaml"));
            Assert.Matches(@"method:\s+name: ""?kd""?\s", resolved);
            Assert.Contains("temperature: 8", resolved);
            Assert.Contains("teacher_cnn", resolved);
            var md = File.ReadAllText(Path.Combine(sweep.Root, "results.md"));
            Assert.Contains("| small | cnn | kd_t8 |", md);
            Assert.Contains("| teacher_cnn |", md);
        });
    }

    [Fact]
    public void ADivergingMethodIsRecordedAndTheSweepGoesOn()
    {
        DistillerRegistry.Register(typeof(NanFromStep));
        WithSweep("""
            seeds: [0]
            teachers: [{ name: cnn, config: teacher.yaml, shared: true }]
            students: [{ name: small }]
            methods:
              - { name: nan, method: test_nan_from_step, set: ["method.params.step=1"] }
              - { name: kd }
            """, sweep =>
        {
            var results = sweep.Run();

            Assert.True(results[0].Diverged);
            Assert.Contains("loss", results[0].Failure);
            Assert.False(results[1].Diverged);
            Assert.InRange(results[1].BestAccuracy, 0.0, 1.0);
            Assert.Contains("| small | - | nan | diverged | diverged | 0 (+1 diverged) |", File.ReadAllText(Path.Combine(sweep.Root, "results.md")));
            Assert.EndsWith(",diverged", File.ReadAllLines(Path.Combine(sweep.Root, "results.csv"))[1]);
            // Run again: the diverged cell is finished, nothing reruns.
            Assert.Equal(results, sweep.Run());
        });
    }

    [Fact]
    public void MeanStdUsesTheSampleDeviation() => Assert.Equal("50.00 ± 10.00", Sweep.MeanStd(new[] { 0.4, 0.5, 0.6 }));

    /// <summary>Writes the teacher and student configs and a sweep.yaml with <paramref name="grid"/> (everything after
    /// name, output_dir and base) into a temporary folder, and runs <paramref name="test"/> on the sweep.</summary>
    private static void WithSweep(string grid, Action<Sweep> test)
    {
        var folder = Directory.CreateTempSubdirectory("cd-sweep-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "teacher.yaml"), Teacher);
            File.WriteAllText(Path.Combine(folder, "student.yaml"), Student);
            File.WriteAllText(Path.Combine(folder, "sweep.yaml"),
                $"name: grid\noutput_dir: {Path.Combine(folder, "runs")}\nbase: student.yaml\n{grid}");
            var (config, _) = ConfigLoader.Load<SweepConfig>(Path.Combine(folder, "sweep.yaml"));
            test(new Sweep(config, folder, _ => new NullObserver()));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    private sealed class NullObserver : ITrainingObserver { }
}
