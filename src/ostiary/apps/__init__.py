"""Apps and what hangs off them: collaborators, config vars, releases and add-ons."""
