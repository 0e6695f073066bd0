package io.reprise.transport;

import java.io.File;
import java.util.List;
import java.util.Locale;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One {@code reprise.*} key of {@link Settings}: who reads it, its default, the values it takes, its unit, what it
 * does, and for a key of the node how it is applied to and read back from the node's contexts. Immutable once the
 * table is built.
 */
public final class Setting
{
    /** Who reads a key. */
    public enum Scope
    {
        /** The node (and, for some keys, the tools and clients that find it). */
        NODE("node"),
        /** The node, but meant for benchmarks only. */
        NODE_BENCHMARK("node, for benchmarks only"),
        /** The {@code reprise} command line's own verbs. */
        TOOLS("tools"),
        /** The JMH benchmarks and probes of the {@code jmh} module. */
        BENCHMARKS("benchmarks (jmh module)"),
        /** The test suites ({@code ./mvnw verify}). */
        TESTS("tests");

        private final String text;

        Scope(final String text)
        {
            this.text = text;
        }

        public String text()
        {
            return text;
        }

        /** Whether the node reads keys of this scope: only those go in its configuration file. */
        public boolean ofNode()
        {
            return this == NODE || this == NODE_BENCHMARK;
        }
    }

    /** The kind of value a key takes. */
    public enum Kind
    {
        INT, LONG, BOOLEAN, CHOICE, TEXT, DIRECTORY
    }

    private final String key;
    private final Scope scope;
    private final Kind kind;
    private final String defaultValue;
    private String defaultText;
    private long min;
    private long max;
    private boolean powerOfTwo;
    private int multipleOf = 1;
    private List<String> choices = List.of();
    private String unit = "";
    private String description = "";
    private Consumer<String> check;
    private BiConsumer<Settings.Contexts, String> apply;
    private Function<Settings.Contexts, String> read;
    private boolean secret;

    private Setting(final String key, final Scope scope, final Kind kind, final String defaultValue)
    {
        this.key = key;
        this.scope = scope;
        this.kind = kind;
        this.defaultValue = defaultValue;
        this.defaultText = defaultValue;
        this.min = kind == Kind.INT ? Integer.MIN_VALUE : Long.MIN_VALUE;
        this.max = kind == Kind.INT ? Integer.MAX_VALUE : Long.MAX_VALUE;
    }

    static Setting intKey(final String key, final Scope scope, final long defaultValue)
    {
        return new Setting(key, scope, Kind.INT, Long.toString(defaultValue));
    }

    static Setting longKey(final String key, final Scope scope, final long defaultValue)
    {
        return new Setting(key, scope, Kind.LONG, Long.toString(defaultValue));
    }

    static Setting booleanKey(final String key, final Scope scope, final boolean defaultValue)
    {
        return new Setting(key, scope, Kind.BOOLEAN, Boolean.toString(defaultValue));
    }

    static Setting choiceKey(final String key, final Scope scope, final String defaultValue, final String... choices)
    {
        final Setting setting = new Setting(key, scope, Kind.CHOICE, defaultValue);
        setting.choices = List.of(choices);
        return setting;
    }

    static Setting textKey(final String key, final Scope scope, final String defaultValue)
    {
        return new Setting(key, scope, Kind.TEXT, defaultValue);
    }

    /** A directory: a value that names an existing file is refused. */
    static Setting directoryKey(final String key, final Scope scope, final String defaultValue)
    {
        return new Setting(key, scope, Kind.DIRECTORY, defaultValue);
    }

    Setting range(final long min, final long max)
    {
        this.min = min;
        this.max = max;
        return this;
    }

    Setting atLeast(final long min)
    {
        this.min = min;
        return this;
    }

    Setting powerOfTwo()
    {
        this.powerOfTwo = true;
        return this;
    }

    Setting multipleOf(final int multipleOf)
    {
        this.multipleOf = multipleOf;
        return this;
    }

    Setting unit(final String unit)
    {
        this.unit = unit;
        return this;
    }

    Setting doc(final String description)
    {
        this.description = description;
        return this;
    }

    /** The default as the documentation shows it, when the value depends on the machine. */
    Setting defaultText(final String defaultText)
    {
        this.defaultText = defaultText;
        return this;
    }

    /** A further check of a value, throwing IllegalArgumentException with what is wrong. */
    Setting check(final Consumer<String> check)
    {
        this.check = check;
        return this;
    }

    /** Its value is never shown: printed masked. */
    Setting masked()
    {
        this.secret = true;
        return this;
    }

    Setting applied(final BiConsumer<Settings.Contexts, String> apply, final Function<Settings.Contexts, String> read)
    {
        this.apply = apply;
        this.read = read;
        return this;
    }

    public String key()
    {
        return key;
    }

    public Scope scope()
    {
        return scope;
    }

    public Kind kind()
    {
        return kind;
    }

    /** The default value, as this machine has it. */
    public String defaultValue()
    {
        return defaultValue;
    }

    /** The default as documented (the same as {@link #defaultValue()} unless it depends on the machine). */
    public String defaultText()
    {
        return defaultText;
    }

    public String unit()
    {
        return unit;
    }

    public String description()
    {
        return description;
    }

    /** Whether its value is secret: printed masked, never in a message. */
    public boolean secret()
    {
        return secret;
    }

    /** The smallest value of a number. */
    public long min()
    {
        return min;
    }

    /** The largest value of a number. */
    public long max()
    {
        return max;
    }

    /** Whether a number must be a power of two. */
    public boolean isPowerOfTwo()
    {
        return powerOfTwo;
    }

    /** The values a key takes, in words: {@code 64..16,777,216, a power of two}, {@code true or false}. */
    public String rangeText()
    {
        switch (kind)
        {
            case INT:
            case LONG:
            {
                final long typeMin = kind == Kind.INT ? Integer.MIN_VALUE : Long.MIN_VALUE;
                final long typeMax = kind == Kind.INT ? Integer.MAX_VALUE : Long.MAX_VALUE;
                final String range = min == typeMin && max == typeMax ? "any whole number" :
                    max == typeMax ? number(min) + " or more" : number(min) + ".." + number(max);
                return range + (powerOfTwo ? ", a power of two" : "") +
                    (multipleOf > 1 ? ", a multiple of " + multipleOf : "");
            }
            case BOOLEAN:
                return "true or false";
            case CHOICE:
                return String.join(", ", choices);
            case DIRECTORY:
                return "a directory (made when missing)";
            default:
                return "text";
        }
    }

    static String number(final long value)
    {
        return String.format(Locale.ROOT, "%,d", value);
    }

    /**
     * Checks a value.
     *
     * @return the value, trimmed.
     * @throws IllegalArgumentException saying what is wrong with it, without the key (the caller names it).
     */
    public String checkValue(final String raw)
    {
        final String value = raw.trim();
        switch (kind)
        {
            case INT:
            case LONG:
            {
                final long number;
                try
                {
                    number = Long.parseLong(value);
                }
                catch (final NumberFormatException ex)
                {
                    throw new IllegalArgumentException("not a whole number: must be " + rangeTextWithUnit());
                }
                if (number < min || number > max || (powerOfTwo && Long.bitCount(number) != 1) ||
                    number % multipleOf != 0)
                {
                    throw new IllegalArgumentException("out of range: must be " + rangeTextWithUnit());
                }
                break;
            }
            case BOOLEAN:
                if (!"true".equals(value) && !"false".equals(value))
                {
                    throw new IllegalArgumentException("must be true or false");
                }
                break;
            case CHOICE:
                if (!choices.contains(value))
                {
                    throw new IllegalArgumentException("must be one of " + String.join(", ", choices));
                }
                break;
            case DIRECTORY:
                if (value.isEmpty())
                {
                    throw new IllegalArgumentException("empty: must name a directory");
                }
                if (new File(value).exists() && !new File(value).isDirectory())
                {
                    throw new IllegalArgumentException(value + " is a file, not a directory");
                }
                break;
            default:
                break;
        }
        if (null != check)
        {
            check.accept(value);
        }
        return value;
    }

    private String rangeTextWithUnit()
    {
        return rangeText() + (unit.isEmpty() ? "" : " (" + unit + ")");
    }

    /** Whether this key is applied to a node's contexts (keys of the node). */
    boolean isApplied()
    {
        return null != apply;
    }

    void apply(final Settings.Contexts contexts, final String value)
    {
        apply.accept(contexts, value);
    }

    /** The value the contexts hold, as text (masked when secret is for the caller to do). */
    String read(final Settings.Contexts contexts)
    {
        return read.apply(contexts);
    }
}
