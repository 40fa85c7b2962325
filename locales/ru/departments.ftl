## Departments (the operator's DEPARTMENTS_FILE), Russian.

# A line of the card: the department the message was routed to.
card-department = Отдел: { $department }
# In /queue and the digest, after a ticket's number.
queue-department = { $department }
# The digest: messages and ratings per department.
digest-departments = По отделам: { $list }
digest-department-item = { $department } — { $count }
digest-ratings = Оценки ответов: { $list }
digest-rating-item = { $department } — { $average } из 5 ({ $count })
digest-rating-all = { $average } из 5 ({ $count })
