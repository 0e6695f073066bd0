package io.reprise.tools.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The arguments of one verb: positionals and {@code --name value} (or {@code --name=value}) options, checked
 * against what the verb accepts. Every mistake is a {@link UsageException} that names the argument.
 */
public final class Args
{
    private final String command;
    private final List<String> positionals = new ArrayList<>();
    private final Map<String, String> options = new LinkedHashMap<>();

    private Args(final String command)
    {
        this.command = command;
    }

    /**
     * @param command     the verb, for messages ("log dump").
     * @param tokens      everything after the verb's words.
     * @param optionNames the options the verb accepts (each takes a value).
     * @param positionalNames names of the positionals the verb requires, in order, for messages ("DIR").
     */
    public static Args parse(
        final String command, final List<String> tokens, final Set<String> optionNames, final String... positionalNames)
        throws UsageException
    {
        return parse(command, tokens, optionNames, Set.of(), positionalNames);
    }

    /** As {@link #parse(String, List, Set, String...)}, with {@code flagNames}: options that take no value. */
    public static Args parse(
        final String command, final List<String> tokens, final Set<String> optionNames, final Set<String> flagNames,
        final String... positionalNames) throws UsageException
    {
        final Args args = new Args(command);
        for (int i = 0; i < tokens.size(); i++)
        {
            final String token = tokens.get(i);
            if (token.startsWith("--"))
            {
                final int equals = token.indexOf('=');
                final String name = equals < 0 ? token : token.substring(0, equals);
                if (flagNames.contains(name) && equals < 0)
                {
                    if (args.options.put(name, "true") != null)
                    {
                        throw new UsageException(name + " given twice");
                    }
                    continue;
                }
                if (!optionNames.contains(name))
                {
                    throw new UsageException("unknown option '" + token + "'" +
                        (optionNames.isEmpty() ? " (this verb takes none)" : " (it takes " + String.join(", ",
                        optionNames) + ")"));
                }
                final String value;
                if (equals >= 0)
                {
                    value = token.substring(equals + 1);
                }
                else if (i + 1 < tokens.size())
                {
                    value = tokens.get(++i);
                }
                else
                {
                    throw new UsageException(name + " needs a value");
                }
                if (args.options.put(name, value) != null)
                {
                    throw new UsageException(name + " given twice");
                }
            }
            else
            {
                args.positionals.add(token);
            }
        }
        if (args.positionals.size() < positionalNames.length)
        {
            throw new UsageException("missing " + positionalNames[args.positionals.size()]);
        }
        if (args.positionals.size() > positionalNames.length)
        {
            throw new UsageException("unexpected argument '" + args.positionals.get(positionalNames.length) + "'");
        }
        return args;
    }

    public String command()
    {
        return command;
    }

    public String positional(final int i)
    {
        return positionals.get(i);
    }

    public boolean has(final String name)
    {
        return options.containsKey(name);
    }

    public String option(final String name)
    {
        return options.get(name);
    }

    /** The option as a number in {@code [min, max]}, or {@code defaultValue} when absent. */
    public long longOption(final String name, final long defaultValue, final long min, final long max)
        throws UsageException
    {
        final String value = options.get(name);
        if (null == value)
        {
            return defaultValue;
        }
        return parseLong(name, value, min, max);
    }

    public static long parseLong(final String what, final String value, final long min, final long max)
        throws UsageException
    {
        final long number;
        try
        {
            number = Long.parseLong(value.trim().replace("_", ""));
        }
        catch (final NumberFormatException ex)
        {
            throw new UsageException(what + " is not a number: '" + value + "'");
        }
        if (number < min || number > max)
        {
            throw new UsageException(what + " must be " + min + ".." + max + ": " + number);
        }
        return number;
    }
}
