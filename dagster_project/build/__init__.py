"""`recurwise build`: the build job run in this process, as the schedule runs it.

run.py checks the command's input and runs the job; environment.py is what the job's
dbt children and `recurwise ui`'s processes inherit; manifest.py prepares dbt's manifest
(and the parse the build starts from); progress.py and log.py are what a person sees
while it runs; summary.py is what it built.
"""
