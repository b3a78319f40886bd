using System.ComponentModel;
using System.Diagnostics;
using System.Threading.Channels;

namespace SensorHub.Bench.Driving;

/// <summary>
/// A process the driver started (a server, a device, a JavaScript load generator), spoken to by lines: its standard
/// output is read into a queue from the start, so it never blocks on a full pipe whether or not the driver is waiting
/// for a line; its standard error is echoed (the first lines) and its tail kept for error messages. Disposing closes its
/// standard input (each child's way to stop) and kills it, by its own pid, when it has not exited in time.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private const int EchoedErrorLines = 40;
    private const int KeptErrorLines = 10;
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Queue<string> _errorTail = new();
    private readonly Task _readers;
    private int _errorLines;

    private ChildProcess(string name, Process process)
    {
        Name = name;
        _process = process;
        _readers = Task.WhenAll(ReadOutputAsync(), ReadErrorsAsync());
    }

    /// <summary>What the driver calls it in messages: "device", "js load generator", "SensorHub server".</summary>
    public string Name { get; }

    public int Id => _process.Id;

    /// <summary>Starts this same program (<c>serve</c>, <c>device</c>): the bench's executable, or its DLL under the dotnet host.</summary>
    public static ChildProcess StartSelf(string name, IEnumerable<string> args)
    {
        var self = Environment.ProcessPath!;
        IEnumerable<string> all = Path.GetFileNameWithoutExtension(self) == "dotnet" ? [typeof(ChildProcess).Assembly.Location, .. args] : args;
        return Start(name, self, all);
    }

    /// <exception cref="InvalidOperationException">The program could not be started (e.g. it is not on the PATH).</exception>
    public static ChildProcess Start(string name, string fileName, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        try
        {
            return new ChildProcess(name, Process.Start(start) ?? throw new InvalidOperationException($"could not start the {name} ({fileName})"));
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException($"could not start the {name}: {fileName}: {ex.Message}", ex);
        }
    }

    /// <summary>The next line of its standard output.</summary>
    /// <exception cref="InvalidOperationException">It exited first; the message ends with its last lines of standard error.</exception>
    /// <exception cref="TimeoutException">No line within <paramref name="timeout"/>.</exception>
    public async Task<string> ReadLineAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            if (await _lines.Reader.WaitToReadAsync(cts.Token) && _lines.Reader.TryRead(out var line))
                return line;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"the {Name} (pid {Id}) printed nothing within {timeout.TotalSeconds:0.#} s{ErrorTail()}");
        }
        await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        throw new InvalidOperationException($"the {Name} (pid {Id}) exited with code {_process.ExitCode}{ErrorTail()}");
    }

    /// <summary>Reads lines until one matches; the others are skipped.</summary>
    public async Task<string> ReadLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var left = timeout - deadline.Elapsed;
            var line = await ReadLineAsync(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
            if (match(line))
                return line;
        }
    }

    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Kills it at once by its pid (SIGKILL): a crash, nothing of it runs on. Returns once it has exited.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited)
            return;
        // Process.Kill without the tree sends SIGKILL to this pid alone.
        _process.Kill();
        await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
    }

    /// <summary>Closes its standard input, waits up to <paramref name="grace"/> for it to exit, then kills it (and its children) by pid.</summary>
    /// <returns>Its exit code, or -1 when it had to be killed.</returns>
    public async Task<int> StopAsync(TimeSpan grace)
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // It has exited already: the pipe is broken.
        }
        try
        {
            await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(grace, CancellationToken.None);
            return _process.ExitCode;
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
            return -1;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            await StopAsync(TimeSpan.FromSeconds(15));
        await _readers.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
        _process.Dispose();
    }

    private string ErrorTail()
    {
        lock (_errorTail)
            return _errorTail.Count == 0 ? "" : "; its last errors: " + string.Join(" | ", _errorTail);
    }

    private async Task ReadOutputAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
            _lines.Writer.TryWrite(line);
        _lines.Writer.TryComplete();
    }

    private async Task ReadErrorsAsync()
    {
        while (await _process.StandardError.ReadLineAsync() is { } line)
        {
            lock (_errorTail)
            {
                _errorTail.Enqueue(line);
                if (_errorTail.Count > KeptErrorLines)
                    _errorTail.Dequeue();
            }
            // Shown as it comes, so that a child's trouble is seen during a long run; a child that keeps complaining
            // (a thousand connections failing alike) is cut short.
            var count = ++_errorLines;
            if (count <= EchoedErrorLines)
                Console.Error.WriteLine($"[{Name} {Id}] {line}");
            else if (count == EchoedErrorLines + 1)
                Console.Error.WriteLine($"[{Name} {Id}] … (further errors not shown)");
        }
    }
}
