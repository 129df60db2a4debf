using CrossDistill.Models;
using CrossDistill.Training.Config;
using CrossDistill.Training.Distillers;
using CrossDistill.Training.Sweeps;

namespace CrossDistill.Training.Tests;

/// <summary>Every YAML file under configs/ binds without errors and names models and methods that exist.</summary>
public class CommittedConfigTests
{
    public static IEnumerable<object[]> Files() =>
        Directory.GetFiles(Path.Combine(Repo.Root, "configs"), "*.yaml", SearchOption.AllDirectories)
            .Select(f => new object[] { Path.GetRelativePath(Repo.Root, f) });

    [Theory]
    [MemberData(nameof(Files))]
    public void Binds(string relative)
    {
        string path = Path.Combine(Repo.Root, relative);
        var tree = ConfigLoader.ParseFile(path);
        if (tree.Get("seeds") is not null || tree.Get("base") is not null)
        {
            var sweep = ConfigBinder.Bind<SweepConfig>(tree);
            foreach (var m in sweep.Methods) Assert.True(DistillerRegistry.Contains(m.Method ?? m.Name), $"{relative}: unknown method {m.Method ?? m.Name}");
            Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(path)!, sweep.Base)), $"{relative}: base {sweep.Base} is missing");
            foreach (var t in sweep.Teachers) Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(path)!, t.Config)), $"{relative}: teacher config {t.Config} is missing");
            // Every cell's overrides must bind too, or a long sweep would fail half-way.
            foreach (var student in sweep.Students)
                foreach (var m in sweep.Methods)
                {
                    string methodName = m.Method ?? m.Name;
                    var (cell, _) = ConfigLoader.Load<RunConfig>(Path.Combine(Path.GetDirectoryName(path)!, sweep.Base),
                        student.Set.Concat(m.Set).Append($"method.name={methodName}"));
                    Assert.True(ModelZoo.Contains(cell.Model.Name), $"{relative}: student {student.Name}: unknown model {cell.Model.Name}");
                    DistillerRegistry.BindParams(DistillerRegistry.Get(methodName), cell.Method.Params);
                }
            return;
        }
        var run = ConfigBinder.Bind<RunConfig>(tree);
        Assert.True(ModelZoo.Contains(run.Model.Name), $"{relative}: unknown model {run.Model.Name}");
        var method = DistillerRegistry.Get(run.Method.Name);
        DistillerRegistry.BindParams(method, run.Method.Params);
    }
}
