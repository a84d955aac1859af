SELECT
  *
FROM (
  SELECT
    `t7`.`month`,
    COUNT(`t7`.`subscription_id`) AS `deliveries`,
    SUM(IF(`t7`.`delivery_number` = 1, 1, 0)) AS `first_deliveries`,
    COUNT(DISTINCT `t7`.`subscription_id`) AS `subscriptions`,
    COALESCE(SUM(`t7`.`amount`), 0) AS `revenue`
  FROM (
    SELECT
      `t6`.`subscription_id`,
      `t6`.`delivery_number`,
      `t6`.`scheduled_on`,
      `t6`.`status`,
      `t6`.`shipped_at`,
      `t6`.`order_id`,
      `t6`.`amount`,
      DATE_TRUNC(`t6`.`scheduled_on`, MONTH) AS `month`
    FROM (
      SELECT
        `t3`.`subscription_id`,
        `t3`.`delivery_number`,
        `t3`.`scheduled_on`,
        `t3`.`status`,
        `t3`.`shipped_at`,
        `t3`.`order_id`,
        `t3`.`amount`
      FROM (
        SELECT
          *
        FROM `subscription_deliveries` AS `t0`
        WHERE
          `t0`.`status` = 'shipped' AND `t0`.`scheduled_on` <= DATE(2026, 10, 31)
      ) AS `t3`
      INNER JOIN (
        SELECT
          `t1`.`subscription_id`
        FROM `subscriptions` AS `t1`
        WHERE
          DATE(TIMESTAMP_ADD(`t1`.`started_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
      ) AS `t5`
        ON `t3`.`subscription_id` = `t5`.`subscription_id`
    ) AS `t6`
  ) AS `t7`
  GROUP BY
    1
) AS `t8`
ORDER BY
  `t8`.`month` ASC NULLS LAST
